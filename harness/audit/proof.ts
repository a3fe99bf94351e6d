// What the audit's e2e proof (scenarios/audit-*.e2e.ts) shares: the audit of one query path of a
// running topology, as a person would run it, and the verdict against its case in cases.ts. Each
// verdict's observed results go to reports/audit/observed/, and reports/audit/table.md is the
// preset x check table of every case observed there (the README's, rendered from cases.ts, is what
// the tests assert).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Handle, QueryPathHandle } from '../presets/handles.ts';
import { REPORTS_DIR } from '../report/paths.ts';
import { log } from '../scenario.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { waitForRemoteWriteOfSlot } from '../steps/remote-write.ts';
import { alignDown, HOUR_MS } from '../time.ts';
import { AUDIT_CASES, auditTable, type AuditCase } from './cases.ts';
import { CHECKS, type CheckId, type CheckStatus } from './checks.ts';
import { runAudit, type AuditOutcome } from './run.ts';

export const AUDIT_REPORTS = join(REPORTS_DIR, 'audit');
/** The audit's step: the workload's grid (15s), or 15s where the grid is finer (jitter's 1s: 6h would be 21600 points a series). */
const MIN_STEP_MS = 15_000;

/** A case of cases.ts by its preset and the start of its path's description. */
export function caseOf(preset: string, path: string): AuditCase {
  const c = AUDIT_CASES.find((x) => x.preset === preset && x.path.startsWith(path));
  if (!c) throw new Error(`no audit case ${preset} / ${path}`);
  return c;
}

export interface Audited {
  c: AuditCase;
  outcome: AuditOutcome;
}

export const pathUrls = (t: RunningTopology, p: QueryPathHandle) => ({ query: t.url(p.query.ref), frontend: t.url(p.frontend.ref) });
/** A Query with no Query Frontend in front of it: audited without --frontend (the cache check cannot be made). */
export const queryUrl = (t: RunningTopology, q: Handle<'query'>) => ({ query: t.url(q.ref) });

/**
 * The audit of one query path: the Query's and the frontend's URLs (or the Query's alone), the workload's metric as the
 * probe (its values change every slot, so equal samples mean copies), the workload's grid as the
 * step (at least MIN_STEP_MS), the defaults otherwise; no wait before the cache check's repeat
 * (a test that needs one holds the ingestion back and releases it in afterFirstCacheAsk).
 */
export async function auditPath(t: RunningTopology, c: AuditCase, urls: { query: string; frontend?: string }, hooks: Parameters<typeof runAudit>[1] = {}): Promise<Audited> {
  const dir = join(AUDIT_REPORTS, `${AUDIT_CASES.indexOf(c)}-${c.preset}-${c.configuration}`);
  const outcome = await runAudit(
    { ...urls, probe: t.workload.workload.metric, rangeMs: 6 * HOUR_MS, stepMs: Math.max(t.workload.workload.stepMs, MIN_STEP_MS), tries: 20, agoMs: AGO_MS, timeoutMs: 30_000, cacheWaitMs: 0, out: dir },
    { onProgress: log, ...hooks },
  );
  for (const line of outcome.lines) log(`  [audit ${c.preset}, ${c.path}] ${line}`);
  return { c, outcome };
}

/** The statuses the audit reported must be the case's, check by check, and its exit code follow. */
export function expectCase({ c, outcome }: Audited): void {
  const got = Object.fromEntries(outcome.run.results.map((r) => [r.id, r.status])) as Record<CheckId, CheckStatus>;
  recordObserved(c, got);
  const explained = outcome.lines.join('\n');
  expect(got, explained).toEqual(c.expected);
  expect(outcome.run.exitCode, explained).toBe(CHECKS.some((k) => c.expected[k] === 'finding') ? 1 : 0);
}

function recordObserved(c: AuditCase, got: Record<CheckId, CheckStatus>): void {
  const dir = join(AUDIT_REPORTS, 'observed');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${AUDIT_CASES.indexOf(c)}.json`), JSON.stringify({ preset: c.preset, path: c.path, observed: got, at: new Date().toISOString() }));
  const observed = new Map(readdirSync(dir).map((f) => [Number(f.replace(/\.json$/, '')), JSON.parse(readFileSync(join(dir, f), 'utf8')) as { observed: Record<CheckId, CheckStatus> }]));
  const rows = AUDIT_CASES.flatMap((x, i) => (observed.has(i) ? [{ ...x, expected: observed.get(i)!.observed }] : []));
  writeFileSync(join(AUDIT_REPORTS, 'table.md'), auditTable(rows));
}

/** How far back the audit's tries lie (the default of --ago), and the live data the receives must hold before it. */
const AGO_MS = 60_000;
const LIVE_HISTORY_MS = AGO_MS + 30_000;

/**
 * A topology that holds live data only (the jitter presets) has none a minute back right after it
 * went live, where the audit's tries ask: waits until remote write has delivered the slot
 * LIVE_HISTORY_MS after the live data began (the Prometheus' own counters, not an answer).
 */
export async function waitForLiveHistory(t: RunningTopology, prometheus: Handle<'prometheus'>, liveFromMs: number): Promise<void> {
  await waitForRemoteWriteOfSlot(t, [...prometheus.instances], alignDown(liveFromMs + LIVE_HISTORY_MS, t.workload.workload.stepMs), { timeoutMs: 2 * LIVE_HISTORY_MS, onProgress: log });
}
