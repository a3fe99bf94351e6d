// Typed client for Alertmanager's v2 API: the alerts it holds, as a Ruler delivered them.
//
// GET /api/v2/alerts computes each alert's status (active, silenced, inhibited) when it is read,
// so an alert is listed as soon as Alertmanager accepted it, before group_wait and before any
// notification. Times are milliseconds since the epoch here. One request, one answer: no retries.
import { z } from 'zod';
import type { Labels } from './client.ts';

export interface AlertmanagerAlert {
  labels: Labels;
  annotations: Labels;
  /** ms since the epoch: when the sender says the alert started (a Ruler: the evaluation that fired it). */
  startsAt: number;
  endsAt: number;
  /** ms since the epoch: when Alertmanager last received it. */
  updatedAt: number;
  state: 'active' | 'suppressed' | 'unprocessed';
  silencedBy: string[];
  inhibitedBy: string[];
  receivers: string[];
  fingerprint: string;
  generatorURL: string;
}

const DateTime = z.string().transform((s, ctx) => {
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) ctx.addIssue({ code: 'custom', message: `not a date: ${s}` });
  return ms;
});

const AlertSchema = z.looseObject({
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  startsAt: DateTime,
  endsAt: DateTime,
  updatedAt: DateTime,
  status: z.looseObject({
    state: z.enum(['active', 'suppressed', 'unprocessed']),
    silencedBy: z.array(z.string()),
    inhibitedBy: z.array(z.string()),
  }),
  receivers: z.array(z.looseObject({ name: z.string() })),
  fingerprint: z.string(),
  generatorURL: z.string().default(''),
});

export class AlertmanagerClient {
  readonly baseUrl: string;
  readonly timeoutMs: number;

  constructor(baseUrl: string, opts: { timeoutMs?: number } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** GET /api/v2/alerts: every alert not yet resolved, silenced and inhibited ones included. */
  async alerts(): Promise<AlertmanagerAlert[]> {
    const url = `${this.baseUrl}/api/v2/alerts`;
    let status: number;
    let body: string;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      status = response.status;
      body = await response.text();
    } catch (err) {
      const reason = (err as Error).name === 'TimeoutError' ? `timed out after ${this.timeoutMs} ms` : String((err as Error).cause ?? err);
      throw new Error(`GET ${url}: ${reason}`);
    }
    if (status !== 200) throw new Error(`GET ${url}: HTTP ${status}: ${body.slice(0, 500)}`);
    const parsed = z.array(AlertSchema).safeParse(JSON.parse(body));
    if (!parsed.success) throw new Error(`GET ${url}: unexpected answer: ${z.prettifyError(parsed.error)}; body: ${body.slice(0, 500)}`);
    return parsed.data.map((a) => ({
      labels: a.labels,
      annotations: a.annotations,
      startsAt: a.startsAt,
      endsAt: a.endsAt,
      updatedAt: a.updatedAt,
      state: a.status.state,
      silencedBy: a.status.silencedBy,
      inhibitedBy: a.status.inhibitedBy,
      receivers: a.receivers.map((r) => r.name),
      fingerprint: a.fingerprint,
      generatorURL: a.generatorURL,
    }));
  }
}
