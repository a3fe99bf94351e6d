// The import map, checked: every file belongs to one layer, imports only from its own layer or
// below, and no two files import each other (directly or round a longer cycle). And no scenario
// spells a component's name: it gets handles from its preset. Tests (*.test.ts) may import across
// layers (nothing imports them); the map covers everything else under harness/ and scenarios/.
// The name check covers scenarios/ and harness/steps/.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { PRESETS } from './presets/index.ts';
import { instanceIds } from './plan/index.ts';
import { refOf } from './topology/model.ts';

const ROOT = join(import.meta.dirname, '..');

/**
 * Bottom to top. A file's layer is the first whose prefix its path starts with. The layers, as the
 * README's "where the code lives" describes them.
 */
const LAYERS: { name: string; prefixes: string[] }[] = [
  { name: 'foundation', prefixes: ['harness/time.ts', 'harness/wait.ts', 'harness/binaries/', 'harness/report/paths.ts'] },
  { name: 'topology model', prefixes: ['harness/topology/'] },
  { name: 'models (oracles)', prefixes: ['harness/models/'] },
  { name: 'workload', prefixes: ['harness/workload/'] },
  { name: 'clients (PromQL, S3)', prefixes: ['harness/promql/', 'harness/s3/'] },
  { name: 'plan', prefixes: ['harness/plan/'] },
  { name: 'presets', prefixes: ['harness/presets/'] },
  {
    name: 'substrates and fixtures',
    prefixes: ['harness/images/', 'harness/local-cluster/', 'harness/servers/', 'harness/substrates/', 'harness/prometheus-operator/'],
  },
  { name: 'steps', prefixes: ['harness/steps/'] },
  { name: 'report', prefixes: ['harness/report/', 'harness/scale/report.ts', 'harness/scale/plan.ts', 'harness/scale/figures.ts'] },
  { name: 'lifecycle', prefixes: ['harness/scenario.ts', 'harness/scenario-selection.ts', 'harness/testdata/'] },
  { name: 'tools', prefixes: ['harness/scale/', 'harness/matrix/', 'harness/audit/', 'harness/bench', 'harness/cli.ts', 'harness/kube-two-clusters'] },
  { name: 'scenarios', prefixes: ['scenarios/'] },
];

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const SOURCES = [...files('harness'), ...files('scenarios')].filter((f) => !f.endsWith('.test.ts'));

const layerOf = (file: string): number => {
  const i = LAYERS.findIndex((l) => l.prefixes.some((p) => file.startsWith(p)));
  if (i < 0) throw new Error(`${file} is in no layer: add it to LAYERS`);
  return i;
};

/** Every relative import (static, dynamic, type-only and re-exports alike) of a file, as a repository path. */
function importsOf(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    let spec: ts.Expression | undefined;
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) spec = node.moduleSpecifier;
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) spec = node.arguments[0];
    if (spec && ts.isStringLiteral(spec) && spec.text.startsWith('.') && spec.text.endsWith('.ts')) out.push(normalize(join(dirname(file), spec.text)));
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

const GRAPH = new Map(SOURCES.map((f) => [f, importsOf(f)]));

/** Strongly connected components of more than one file (Tarjan): the import cycles. */
function cycles(): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const strong = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of GRAPH.get(v) ?? []) {
      if (!GRAPH.has(w)) continue;
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const v of GRAPH.keys()) if (!idx.has(v)) strong(v);
  return out;
}

describe('the import map', () => {
  it('puts every file in a layer', () => {
    for (const f of SOURCES) expect(() => layerOf(f), f).not.toThrow();
  });

  it('has no file importing from a layer above its own', () => {
    const upward: string[] = [];
    for (const [file, targets] of GRAPH) {
      for (const target of targets) {
        if (layerOf(target) > layerOf(file)) upward.push(`${file} (${LAYERS[layerOf(file)]!.name}) -> ${target} (${LAYERS[layerOf(target)]!.name})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(cycles()).toEqual([]);
  });

  it('finds an upward import and a cycle where there is one (the checks can fail)', () => {
    expect(layerOf('scenarios/arch1-sidecar.e2e.ts')).toBeGreaterThan(layerOf('harness/steps/arch1.ts'));
    expect(layerOf('harness/models/compaction.ts')).toBeLessThan(layerOf('harness/steps/compactor.ts'));
    GRAPH.set('harness/steps/x.ts', ['harness/steps/y.ts']);
    GRAPH.set('harness/steps/y.ts', ['harness/steps/x.ts']);
    try {
      expect(cycles()).toContainEqual(['harness/steps/x.ts', 'harness/steps/y.ts']);
    } finally {
      GRAPH.delete('harness/steps/x.ts');
      GRAPH.delete('harness/steps/y.ts');
    }
  });
});

/** Every name a scenario could spell instead of using a handle: component and Service refs, instance ids, cluster names, the Receives' default tenant. */
function componentNames(): Set<string> {
  const names = new Set<string>();
  for (const make of Object.values(PRESETS)) {
    const topology = make();
    for (const c of topology.clusters) names.add(c.name);
    for (const c of topology.components) {
      names.add(refOf(c));
      for (const i of instanceIds(c, topology)) names.add(i.id);
      // A bare name that is not also a word of the APIs (a Stores page type, a block's source).
      if (c.name.includes('-')) names.add(c.name);
      if (c.kind === 'receive') names.add(c.defaultTenant);
    }
    for (const s of topology.services) {
      names.add(refOf(s));
      names.add(s.name);
    }
  }
  return names;
}

/** The string literals of a file and the literal parts of its templates. */
function literalsOf(file: string): { text: string; line: number }[] {
  const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const out: { text: string; line: number }[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      // Module specifiers name files, and literal types (Handle<'query-frontend'>) kinds: neither names a component.
      const parent = node.parent;
      if (!(parent && (ts.isImportDeclaration(parent) || ts.isExportDeclaration(parent) || ts.isLiteralTypeNode(parent)))) out.push({ text: node.text, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

describe('scenarios and steps', () => {
  const names = componentNames();
  // A name spelled as a value: the whole literal, quoted or after "=" inside a longer text
  // (cluster="observee"), or as part of a "cluster/name" ref. The cluster roles are also words of
  // the prose ("the whole observee down"), which does not count.
  const escape = (n: string) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const spells = (text: string) =>
    [...names].filter(
      (n) =>
        text === n ||
        new RegExp(`["'=]${escape(n)}($|[^a-z0-9_-])`).test(text) ||
        new RegExp(`(^|[^a-z0-9_-])${escape(n)}/[a-z]`).test(text) ||
        (n.includes('/') && new RegExp(`(^|[^a-z0-9_-])${escape(n)}($|[^a-z0-9_-])`).test(text)),
    );

  it('spell no component, Service or cluster name: they use the handles their preset gives', () => {
    const found: string[] = [];
    for (const file of [...files('scenarios'), ...files('harness/steps')]) {
      for (const { text, line } of literalsOf(file)) for (const n of spells(text)) found.push(`${file}:${line} "${n}" in ${JSON.stringify(text.slice(0, 80))}`);
    }
    expect(found).toEqual([]);
  });

  it('would notice one (the check can fail)', () => {
    expect(spells('observer/store')).toContain('observer/store');
    expect(spells('e2e_workload_value{cluster="observee"}')).toContain('observee');
    expect(spells('default-tenant')).toContain('default-tenant');
    expect(spells('observee')).toContain('observee');
    expect(spells('prometheus_replica')).toEqual([]);
    expect(spells('with the whole observee down')).toEqual([]);
  });
});

