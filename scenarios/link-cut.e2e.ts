// The link between the clusters cut (issue #10, FINDINGS.md G): Arch 1 with history, the observer's
// Queries reading Store (S3 stays in reach) and the observee's sidecars (only across the link).
//
// One bring-up, measured once in setup, asserted per test: the link is cut; once every Query's
// health check of the sidecars has failed (its Stores page says so) each is asked once with
// partial_response=true and =false; the link is restored; once every Query has checked the sidecars
// without error again each is asked once more. Two Queries side by side over the same endpoints:
// "query" lists the sidecars as plain endpoints, as the note does, "query-strict" as strict ones.
// Query leaves a plain endpoint whose last check failed out of every query, silently: no warning,
// and partial_response=false still answers. A strict one stays in, so the cut shows.
import { describe, expect, it } from 'vitest';
import { linkCut } from '../harness/presets/link-cut.ts';
import type { RangeAnalysis } from '../harness/promql/analysis.ts';
import { PromApiError, type PromApiClient, type RangeQueryResponse } from '../harness/promql/client.ts';
import { waitForStores } from '../harness/promql/wait-metrics.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { presentSegments } from '../harness/report/plots.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { prepareArch1, queryPathOf, windowAnalysis, type Arch1Run, type QueryPath } from '../harness/steps/arch1.ts';
import type { RunningTopology } from '../harness/substrates/index.ts';
import { iso } from '../harness/time.ts';

const preset = linkCut();
const { topology } = preset;
const SCENARIO = 'link-cut';

/** One request's outcome: the answer, or the API's error (HTTP status, type and text). */
interface Asked {
  answer?: RangeQueryResponse;
  error?: { status: number | undefined; errorType: string | undefined; text: string };
}

async function ask(client: PromApiClient, r: Arch1Run, partialResponse: boolean): Promise<Asked> {
  try {
    return { answer: await client.queryRange(r.t.workload.workload.metric, { ...r.window, dedup: true, partialResponse }) };
  } catch (err) {
    if (!(err instanceof PromApiError)) throw err;
    let text = err.message;
    try {
      text = (JSON.parse(err.body) as { error?: string }).error ?? text;
    } catch {
      // not JSON: the client's message says what came back
    }
    return { error: { status: err.status, errorType: err.errorType, text } };
  }
}

interface Observation {
  path: QueryPath;
  /** The sidecars as this Query names them (the addresses it dials them at), from before the cut. */
  sidecars: string[];
  /** From the cut until its Stores page showed every sidecar failing. */
  noticedMs: number;
  cut: { partial: Asked; noPartial: Asked; frontendPartial: Asked; frontendNoPartial: Asked };
  /** From the restore until its Stores page showed every sidecar checked without error. */
  recoveredMs: number;
  restored: { noPartial: Asked; frontendNoPartial: Asked };
}

/** The two Queries: the sidecars as plain endpoints (the note's), and as strict ones. */
const NAMES = ['plain', 'strict'] as const;
type Name = (typeof NAMES)[number];

async function measure(t: RunningTopology) {
  // Bring-up: Arch 1 served (history shipped, Store loaded, both Queries current, live data).
  const r = await prepareArch1(t, { ...preset, queries: NAMES.map((n) => preset.paths[n].query) }, log);
  const paths = { plain: queryPathOf(t, preset.paths.plain), strict: queryPathOf(t, preset.paths.strict) };
  const sidecarCount = preset.sidecar.instances.length;
  const o = {} as Record<Name, Partial<Observation>>;
  for (const n of NAMES) o[n] = { path: paths[n], sidecars: ((await paths[n].query.stores()).sidecar ?? []).map((s) => s.name).sort() };

  // The experiment: cut the link, ask each Query once it noticed, restore, ask again once it recovered.
  const cutAt = Date.now();
  await t.cutLink(preset.clusters.observer, preset.clusters.observee);
  await Promise.all(
    NAMES.map(async (n) => {
      await waitForStores(paths[n].ref, paths[n].query, { type: 'sidecar', count: sidecarCount, failing: true }, { onProgress: log });
      o[n]!.noticedMs = Date.now() - cutAt;
    }),
  );
  for (const n of NAMES) {
    const p = paths[n];
    o[n]!.cut = { partial: await ask(p.query, r, true), noPartial: await ask(p.query, r, false), frontendPartial: await ask(p.frontend, r, true), frontendNoPartial: await ask(p.frontend, r, false) };
  }

  const restoredAt = Date.now();
  await t.restoreLink(preset.clusters.observer, preset.clusters.observee);
  await Promise.all(
    NAMES.map(async (n) => {
      await waitForStores(paths[n].ref, paths[n].query, { type: 'sidecar', count: sidecarCount, checkedAfter: restoredAt }, { onProgress: log });
      o[n]!.recoveredMs = Date.now() - restoredAt;
    }),
  );
  for (const n of NAMES) o[n]!.restored = { noPartial: await ask(paths[n].query, r, false), frontendNoPartial: await ask(paths[n].frontend, r, false) };
  for (const n of NAMES) log(`[${n}] the cut noticed after ${o[n]!.noticedMs} ms, the restore after ${o[n]!.recoveredMs} ms`);
  return { r, observed: o as Record<Name, Observation> };
}

const measured = useTopology(topology, measure);
const where = (o: Observation) => `${topology.name} ${o.path.ref}`;

function analyse(r: Arch1Run, asked: Asked): RangeAnalysis {
  expect(asked.error, 'an answer, not an error').toBeUndefined();
  return windowAnalysis(r, asked.answer!.result);
}

/** Points per series from Store's maxTime (exclusive in meta.json, so its own sample is gone too) to the window's end. */
const storeGapPoints = (r: Arch1Run) => (r.window.end - r.storeMaxTime) / r.window.step + 1;

/** Exactly what Store serves: every sample up to its maxTime, right, once; none after it. */
function expectStoreOnly(r: Arch1Run, a: RangeAnalysis): void {
  const gap = storeGapPoints(r);
  expect(a.series).toHaveLength(r.t.workload.workload.seriesCount);
  expect(a.summary).toMatchObject({ wrongPoints: 0, repeatedTimestamps: 0 });
  for (const s of a.series) {
    expect(s.missing.map((m) => [iso(m.startMs), iso(m.endMs), m.points])).toEqual([[iso(r.storeMaxTime), iso(r.window.end), gap]]);
    expect(s.present).toBe(s.expected - gap);
  }
}

/** What Query says about a sidecar it cannot reach: "fetch series for {<its labels>} Addr: <address> ...: rpc error: code = Unavailable ...". */
const UNREACHABLE = /fetch series for \{[^}]*prometheus_replica="([^"]+)"[^}]*\} Addr: (\S+) MinTime: -?\d+ MaxTime: -?\d+: rpc error: code = Unavailable desc = /;
const unreachable = (text: string) => {
  const m = UNREACHABLE.exec(text);
  return m ? { replica: m[1]!, address: m[2]! } : undefined;
};

describe('the link cut, sidecars as plain endpoints (the note): Query leaves them out silently (finding G)', () => {
  it('answers exactly what Store serves and nothing newer, with no warning, with partial_response=true and =false alike', () => {
    const { r, observed } = measured();
    const o = observed.plain;
    expect(o.sidecars).toHaveLength(r.replicas.length);
    const answers = { partial: o.cut.partial, noPartial: o.cut.noPartial, frontendNoPartial: o.cut.frontendNoPartial };
    for (const [how, asked] of Object.entries(answers)) {
      expectStoreOnly(r, analyse(r, asked));
      expect(asked.answer!.warnings, how).toEqual([]);
    }
    const a = analyse(r, o.cut.noPartial);
    recordFinding({
      finding: 'G',
      scenario: SCENARIO,
      topology: where(o),
      substrate: r.t.substrate,
      configuration: 'faulty',
      observed: `link cut, sidecars as plain endpoints: once Query's check of them failed (after ${o.noticedMs} ms) it left them out silently: ${a.summary.presentPoints} of ${a.summary.expectedPoints} points (nothing after Store's maxTime ${iso(r.storeMaxTime)}), no warning, and partial_response=false answered HTTP 200`,
      figures: {
        pointsAnswered: a.summary.presentPoints,
        pointsMissing: a.summary.missingPoints,
        warnings: o.cut.partial.answer!.warnings.length,
        partialResponseFalseStatus: 200,
        storeMaxTime: iso(r.storeMaxTime),
        cutNoticedMs: o.noticedMs,
      },
      plots: [
        {
          kind: 'timeline',
          title: 'The range query with the link cut, sidecars as plain endpoints: what Store serves and what Query answered (partial_response=false, no warning)',
          range: { from: r.window.start, to: r.window.end },
          rows: [
            { label: 'store (bucket blocks)', segments: [{ from: r.storeMinTime, to: r.storeMaxTime }] },
            { label: 'answered (series 0)', segments: presentSegments(r.window.start, r.window.end, r.window.step, a.series[0]!.missing) },
          ],
          marks: a.series[0]!.missing.map((m) => ({ label: `left out silently: ${m.points} points`, from: m.startMs, to: m.endMs })),
        },
      ],
    });
  });
});

describe('the link cut, sidecars as strict endpoints: the cut shows (finding G)', () => {
  it('with partial_response=true answers exactly what Store serves, with one warning naming each unreachable sidecar', () => {
    const { r, observed } = measured();
    const o = observed.strict;
    expectStoreOnly(r, analyse(r, o.cut.partial));
    const warnings = o.cut.partial.answer!.warnings;
    const named = warnings.map(unreachable);
    expect(named.every(Boolean), warnings.join('\n')).toBe(true);
    expect(named.map((w) => w!.address).sort()).toEqual(o.sidecars);
    expect(named.map((w) => w!.replica).sort()).toEqual(r.replicas.map((p) => p.replica).sort());
  });

  it('with partial_response=false fails with HTTP 422, naming an unreachable sidecar', () => {
    const { r, observed } = measured();
    const o = observed.strict;
    const error = o.cut.noPartial.error;
    expect(error, 'the query fails').toBeDefined();
    expect(error).toMatchObject({ status: 422, errorType: 'execution' });
    expect(error!.text).toMatch(/^expanding series: proxy Series\(\): fetch series for /);
    expect(o.sidecars).toContain(unreachable(error!.text)?.address);
    const a = analyse(r, o.cut.partial);
    recordFinding({
      finding: 'G',
      scenario: SCENARIO,
      topology: where(o),
      substrate: r.t.substrate,
      configuration: 'faulty',
      observed: `link cut, sidecars as strict endpoints: partial_response=true answered ${a.summary.presentPoints} of ${a.summary.expectedPoints} points (what Store serves) with ${o.cut.partial.answer!.warnings.length} warnings naming each sidecar; partial_response=false failed with HTTP ${error!.status} ${error!.errorType}`,
      figures: {
        pointsAnswered: a.summary.presentPoints,
        pointsMissing: a.summary.missingPoints,
        warnings: o.cut.partial.answer!.warnings.length,
        warningText: o.cut.partial.answer!.warnings[0]!,
        partialResponseFalseStatus: error!.status!,
        errorText: error!.text,
        cutNoticedMs: o.noticedMs,
      },
    });
  });

  it('through the Query Frontend: the same answer and warnings (each repeated once per split query), and the same failure', () => {
    const { r, observed } = measured();
    const o = observed.strict;
    expectStoreOnly(r, analyse(r, o.cut.frontendPartial));
    const direct = o.cut.partial.answer!.warnings;
    const viaFrontend = o.cut.frontendPartial.answer!.warnings;
    const key = (w: string) => unreachable(w)?.address;
    expect([...new Set(viaFrontend.map(key))].sort()).toEqual([...new Set(direct.map(key))].sort());
    // Each split query of the range warns on its own; the frontend passes every one on.
    const repeats = viaFrontend.length / direct.length;
    expect(Number.isInteger(repeats) && repeats >= 1).toBe(true);
    for (const address of o.sidecars) expect(viaFrontend.filter((w) => key(w) === address)).toHaveLength(repeats);
    expect(o.cut.frontendNoPartial.error).toMatchObject({ status: 422, errorType: 'execution' });
    expect(o.sidecars).toContain(unreachable(o.cut.frontendNoPartial.error!.text)?.address);
    log(`[${where(o)}] via the frontend: ${viaFrontend.length} warnings, each sidecar's ${repeats} times`);
  });
});

describe('the link restored: answers are complete again (finding G)', () => {
  it("once every Query has checked the sidecars again, each answers every point exactly once, with no warning", () => {
    const { r, observed } = measured();
    for (const n of NAMES) {
      const o = observed[n]!;
      for (const [how, asked] of Object.entries(o.restored)) {
        const a = analyse(r, asked);
        expect(a.series, `${n} ${how}`).toHaveLength(r.t.workload.workload.seriesCount);
        expect(a.summary, `${n} ${how}: ${a.description}`).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
        expect(asked.answer!.warnings, `${n} ${how}`).toEqual([]);
      }
      const a = analyse(r, o.restored.noPartial);
      recordFinding({
        finding: 'G',
        scenario: SCENARIO,
        topology: where(o),
        substrate: r.t.substrate,
        configuration: 'fixed',
        observed: `link restored: Query checked the sidecars without error again after ${o.recoveredMs} ms; partial_response=false answered all ${a.summary.presentPoints} points once with exact values, no warning`,
        figures: { pointsAnswered: a.summary.presentPoints, pointsMissing: a.summary.missingPoints, recoveredMs: o.recoveredMs, warnings: o.restored.noPartial.answer!.warnings.length },
      });
    }
  });
});
