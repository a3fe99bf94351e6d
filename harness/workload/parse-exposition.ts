// For the exporter's tests: parses "name{a="x",b="y"} value ts" lines of an exposition back into
// labels, value and timestamp.

export function parseExposition(text: string): { labels: Record<string, string>; v: number; t: number }[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\w+)\{(.*)\} (\S+) (\d+)$/.exec(l)!;
      const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
      return { labels: { __name__: m[1]!, ...labels } as Record<string, string>, v: Number(m[3]), t: Number(m[4]) };
    });
}
