// The proof of the audit: each preset topology with a faulty/fixed pair, in its finding's state,
// and what `audit` must report against it. scenarios/audit-*.e2e.ts bring each up, audit it and
// assert exactly these results; the README's preset x check table is rendered from this list
// (harness/audit/cases.test.ts keeps the two equal).
import { CHECK_TITLES, CHECKS, type CheckId, type CheckStatus } from './checks.ts';

export interface AuditCase {
  /** The preset `up` brings up, and which of its query paths is audited. */
  preset: string;
  path: string;
  /** Faulty or fixed for the finding the preset is about. */
  configuration: 'faulty' | 'fixed';
  /** What the audit must report, check by check. */
  expected: Record<CheckId, CheckStatus>;
  /** Why a check is not ok here, where that is not the preset's own finding. */
  note?: string;
  /**
   * Findings a fixed path has by the preset's construction, not by the finding it is the fix of
   * (store-partitions' Queries read Stores only, which is arch1's finding A): each explained in the
   * note. A fixed path is clean but for these.
   */
  byConstruction?: CheckId[];
}

const clean: Record<CheckId, CheckStatus> = { A: 'ok', D: 'ok', B: 'ok', E: 'ok', partial: 'ok', cache: 'ok' };

export const AUDIT_CASES: AuditCase[] = [
  { preset: 'arch1-side-by-side', path: 'Query over Store only (arch1-store-only)', configuration: 'faulty', expected: { ...clean, A: 'finding' } },
  { preset: 'arch1-side-by-side', path: 'Query over Store and sidecars (arch1-store-and-sidecar)', configuration: 'fixed', expected: clean },
  { preset: 'arch2-side-by-side', path: "the note's replica labels (arch2-note-replica-labels)", configuration: 'faulty', expected: { ...clean, D: 'finding' } },
  { preset: 'arch2-side-by-side', path: 'receive_replica and tenant_id declared (arch2-all-replica-labels)', configuration: 'fixed', expected: clean },
  {
    preset: 'jitter-standalone-behind-service',
    path: 'Query pair pinned one replica per receive, through its frontend',
    configuration: 'faulty',
    expected: { ...clean, B: 'finding', cache: 'unchecked' },
    note: 'cache: with answers varying between tries, frontend and Query differing says nothing of a cache',
  },
  { preset: 'jitter-standalone-behind-service', path: 'Query pair fanning out to both receives (fixed a)', configuration: 'fixed', expected: clean },
  { preset: 'jitter-hashring-rf2', path: 'hashring, replication factor 2 (fixed b)', configuration: 'fixed', expected: clean },
  { preset: 'query-frontend-cache', path: 'frontend with max freshness 0s, ingestion held back 2 slots', configuration: 'faulty', expected: { ...clean, cache: 'finding' } },
  { preset: 'query-frontend-cache', path: 'frontend with max freshness 1m, ingestion held back 2 slots', configuration: 'fixed', expected: clean },
  {
    preset: 'link-cut',
    path: 'sidecars as plain endpoints (the note), the link cut',
    configuration: 'faulty',
    expected: { ...clean, A: 'finding', E: 'finding', partial: 'finding' },
    note: 'A and E: the cut itself, the newest data only the sidecars held missing and their errors on the Stores page; partial: Query says nothing of it',
  },
  {
    preset: 'link-cut',
    path: 'sidecars as strict endpoints, the link cut',
    configuration: 'faulty',
    expected: { ...clean, A: 'finding', E: 'finding' },
    note: 'the cut is still there (A, E), but Query says so: a warning with partial_response=true, an error with =false',
  },
  { preset: 'link-cut', path: 'sidecars as plain endpoints, the link restored', configuration: 'fixed', expected: clean },
  {
    preset: 'link-cut',
    path: 'sidecars as plain endpoints, the link hanging (packets dropped), once Query noticed',
    configuration: 'faulty',
    expected: { ...clean, A: 'finding', E: 'finding', partial: 'finding' },
    note: 'as the cut: the hang shows as endpoint errors once Query noticed, and the answers still say nothing',
  },
  {
    preset: 'link-cut',
    path: 'sidecars as strict endpoints (store response timeout 3s), the link hanging, once Query noticed',
    configuration: 'faulty',
    expected: { ...clean, A: 'finding', E: 'finding' },
    note: 'every query waits out the store response timeout, then says which sidecars it lacks',
  },
  {
    preset: 'store-partitions',
    path: "Stores split with an hour's hole after the block boundary (query-gap)",
    configuration: 'faulty',
    expected: { ...clean, A: 'finding', cache: 'unchecked' },
    note: "A: the hour no Store serves (the Stores page's ranges and the probe's gap), besides the newest hours as in the fixed split; cache: the preset has no Query Frontend",
  },
  {
    preset: 'store-partitions',
    path: 'Stores split at one block boundary (query-split)',
    configuration: 'fixed',
    expected: { ...clean, A: 'finding', cache: 'unchecked' },
    byConstruction: ['A'],
    note: "A: no hole between the Stores, but the newest hours (from the newest shipped block on) missing: the preset's Queries read Stores alone, so that no sidecar fills a hole, which is arch1's Store-only finding; cache: no Query Frontend",
  },
  { preset: 'compactor-overlap', path: "the same-labels pair's sidecars (identical external labels)", configuration: 'faulty', expected: { ...clean, E: 'finding' } },
  { preset: 'compactor-overlap', path: "the replica-labels pair's sidecars (prometheus_replica)", configuration: 'fixed', expected: clean },
];

const WORD: Record<CheckStatus, string> = { ok: 'ok', finding: '**FINDING**', unchecked: 'could not check' };

/** The README's preset x check table. */
export function auditTable(cases: readonly AuditCase[] = AUDIT_CASES): string {
  const head = `| preset | query path | configuration | ${CHECKS.map((c) => CHECK_TITLES[c]).join(' | ')} |`;
  const rule = `|---|---|---|${CHECKS.map(() => '---').join('|')}|`;
  const rows = cases.map((c) => `| \`${c.preset}\` | ${c.path} | ${c.configuration} | ${CHECKS.map((k) => (c.byConstruction?.includes(k) ? 'FINDING (by construction)' : WORD[c.expected[k]])).join(' | ')} |`);
  const notes = cases.filter((c) => c.note).map((c) => `- \`${c.preset}\`, ${c.path}: ${c.note}`);
  return [head, rule, ...rows, ...(notes.length ? ['', ...notes] : [])].join('\n') + '\n';
}
