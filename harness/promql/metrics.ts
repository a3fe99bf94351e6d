// Reading components' own /metrics (Prometheus text exposition 0.0.4), to wait on facts such as
// thanos_shipper_uploads_total or thanos_bucket_store_blocks_loaded instead of sleeping.

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Present only when the exposition gives one explicitly. */
  timestampMs?: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Parses every sample line; comments (# HELP, # TYPE, ...) and blank lines are skipped. */
export function parseMetrics(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const [index, rawLine] of text.split('\n').entries()) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      samples.push(parseLine(line));
    } catch (err) {
      throw new Error(`metrics line ${index + 1}: ${(err as Error).message}: ${line}`);
    }
  }
  return samples;
}

function parseLine(line: string): MetricSample {
  let rest = line;
  let name = NAME.exec(rest)?.[0] ?? '';
  rest = rest.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    for (;;) {
      rest = rest.trimStart();
      if (rest.startsWith('}')) break;
      let labelName: string;
      if (rest.startsWith('"')) {
        // Prometheus 3 UTF-8 names: {"metric.name", "label.name"="v"}
        [labelName, rest] = readQuoted(rest);
      } else {
        labelName = LABEL_NAME.exec(rest)?.[0] ?? '';
        if (!labelName) throw new Error('expected a label name');
        rest = rest.slice(labelName.length);
      }
      rest = rest.trimStart();
      if (!rest.startsWith('=')) {
        if (name) throw new Error(`expected = after label ${labelName}`);
        name = labelName; // a quoted metric name inside the braces
      } else {
        let value: string;
        [value, rest] = readQuoted(rest.slice(1).trimStart());
        labels[labelName] = value;
      }
      rest = rest.trimStart();
      if (rest.startsWith(',')) rest = rest.slice(1);
      else if (!rest.startsWith('}')) throw new Error('expected , or }');
    }
    rest = rest.slice(1);
  }
  if (!name) throw new Error('expected a metric name');
  const [valueText, timestampText, ...extra] = rest.trim().split(/\s+/);
  if (valueText === undefined || valueText === '' || extra.length > 0) throw new Error('expected "value [timestamp]"');
  const sample: MetricSample = { name, labels, value: parsePromFloat(valueText) };
  if (timestampText !== undefined) {
    const timestampMs = Number(timestampText);
    if (!Number.isInteger(timestampMs)) throw new Error(`bad timestamp ${timestampText}`);
    sample.timestampMs = timestampMs;
  }
  return sample;
}

/** Reads a double-quoted string with \\, \" and \n escapes; returns it and what follows. */
function readQuoted(text: string): [string, string] {
  if (!text.startsWith('"')) throw new Error('expected "');
  let value = '';
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (c === '"') return [value, text.slice(i + 1)];
    if (c === '\\') {
      const next = text[++i];
      value += next === 'n' ? '\n' : (next ?? '');
    } else {
      value += c;
    }
  }
  throw new Error('unterminated quoted string');
}

/** A Prometheus float as text ("1.5", "1e+21", "NaN", "+Inf", "-Inf"), also as the HTTP API returns values. */
export function parsePromFloat(text: string): number {
  switch (text.toLowerCase()) {
    case 'nan':
      return NaN;
    case '+inf':
    case 'inf':
      return Infinity;
    case '-inf':
      return -Infinity;
  }
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`bad value ${text}`);
  return value;
}

function matches(sample: MetricSample, name: string, labelMatchers: Record<string, string>): boolean {
  return sample.name === name && Object.entries(labelMatchers).every(([k, v]) => (sample.labels[k] ?? '') === v);
}

/**
 * Sum over the samples of `name` whose labels equal labelMatchers (a subset of their labels).
 * undefined when none matched: usually a wrong metric name, or a component that has not started yet.
 */
export function metricSum(text: string, name: string, labelMatchers: Record<string, string> = {}): number | undefined {
  const matching = parseMetrics(text).filter((s) => matches(s, name, labelMatchers));
  return matching.length === 0 ? undefined : matching.reduce((sum, s) => sum + s.value, 0);
}

/** The value of the one sample matching; undefined if none, an error if several match. */
export function metricValue(text: string, name: string, labelMatchers: Record<string, string> = {}): number | undefined {
  const matching = parseMetrics(text).filter((s) => matches(s, name, labelMatchers));
  if (matching.length > 1) {
    throw new Error(`${matching.length} samples of ${name} match ${JSON.stringify(labelMatchers)}; add labels to pick one`);
  }
  return matching[0]?.value;
}
