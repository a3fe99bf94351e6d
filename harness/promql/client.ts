// Typed client for the Prometheus HTTP API as Prometheus and the Thanos query/query-frontend
// serve it, with the Thanos parameters (dedup, partial_response, replicaLabels[], lookback_delta).
//
// Times are milliseconds since the epoch everywhere in this API; the wire wants seconds.
// Sample values are numbers here; the HTTP API sends them as strings.
// One request, one answer: no retries, so callers see every variation between tries.
import { z } from 'zod';
import { parsePromFloat } from './metrics.ts';

export type Labels = Record<string, string>;

export interface Sample {
  /** ms since the epoch */
  t: number;
  v: number;
}

export interface VectorSample extends Sample {
  metric: Labels;
}

export interface MatrixSeries {
  metric: Labels;
  /** Float samples in the order the API returned them. Native histogram samples are not kept. */
  samples: Sample[];
}

export type QueryResult =
  | { resultType: 'vector'; result: VectorSample[] }
  | { resultType: 'matrix'; result: MatrixSeries[] }
  | { resultType: 'scalar'; result: Sample }
  | { resultType: 'string'; result: { t: number; v: string } };

/** What accompanies every successful answer. Thanos reports partial responses as warnings. */
export interface Annotations {
  warnings: string[];
  infos: string[];
}

export type QueryResponse = QueryResult & Annotations;
export type RangeQueryResponse = { resultType: 'matrix'; result: MatrixSeries[] } & Annotations;

/** Thanos query parameters; Prometheus ignores them. Unset: the server's default applies. */
export interface ThanosOptions {
  dedup?: boolean;
  partialResponse?: boolean;
  replicaLabels?: string[];
  /** Thanos `max_source_resolution` in ms: 0 reads raw blocks only, 300000 also 5m-downsampled ones. */
  maxSourceResolution?: number;
}

export interface InstantQueryOptions extends ThanosOptions {
  /** Evaluation time (ms). Unset: the server's "now". */
  time?: number;
  /** Lookback delta in ms (Thanos `lookback_delta`; Prometheus ignores it). */
  lookbackDelta?: number;
}

export interface RangeQueryOptions extends ThanosOptions {
  start: number;
  end: number;
  /** Resolution step in ms. */
  step: number;
}

export interface SeriesOptions extends ThanosOptions {
  start?: number;
  end?: number;
}

export type Bound = number | 'unbounded';

export interface StoreEndpoint {
  name: string;
  /** ms since the epoch, undefined if never checked */
  lastCheck: number | undefined;
  lastError: string | null;
  labelSets: Labels[];
  /** Thanos sends math.MinInt64 / MaxInt64 for "no bound", which JSON numbers cannot hold exactly. */
  minTime: Bound;
  maxTime: Bound;
  /** The bounds exactly as Thanos sent them (int64 ms; math.MaxInt64/MinInt64 for none). */
  exactMinTime: bigint;
  exactMaxTime: bigint;
}

export class PromApiError extends Error {
  readonly url: string;
  readonly status: number | undefined;
  readonly errorType: string | undefined;
  readonly body: string;
  constructor(message: string, url: string, status: number | undefined, errorType: string | undefined, body: string) {
    super(message);
    this.name = 'PromApiError';
    this.url = url;
    this.status = status;
    this.errorType = errorType;
    this.body = body;
  }
}

// ---- zod schemas for the JSON the API returns ----

const LabelsSchema = z.record(z.string(), z.string());
const SamplePair = z.tuple([z.number(), z.string()]).transform(([t, v]): Sample => ({ t: secondsToMs(t), v: parsePromFloat(v) }));

const QueryResultSchema = z.discriminatedUnion('resultType', [
  z.object({
    resultType: z.literal('vector'),
    result: z.array(z.looseObject({ metric: LabelsSchema, value: SamplePair.optional() })),
  }),
  z.object({
    resultType: z.literal('matrix'),
    result: z.array(z.looseObject({ metric: LabelsSchema, values: z.array(SamplePair).optional() })),
  }),
  z.object({ resultType: z.literal('scalar'), result: SamplePair }),
  z.object({
    resultType: z.literal('string'),
    result: z.tuple([z.number(), z.string()]).transform(([t, v]) => ({ t: secondsToMs(t), v })),
  }),
]);

const SuccessEnvelope = z.object({
  status: z.literal('success'),
  data: z.unknown(),
  warnings: z.array(z.string()).nullish(),
  infos: z.array(z.string()).nullish(),
});

const ErrorEnvelope = z.looseObject({ status: z.string().optional(), errorType: z.string().optional(), error: z.string().optional() });

const UNBOUNDED_BEYOND = 9e18;
// Int64 milliseconds, quoted before JSON.parse (see stores()), so none is rounded.
const Int64Schema = z.string().regex(/^-?\d+$/).transform((v) => BigInt(v));
const toBound = (v: bigint): Bound => (Number(v) > UNBOUNDED_BEYOND || Number(v) < -UNBOUNDED_BEYOND ? 'unbounded' : Number(v));

const StoresSchema = z.record(
  z.string(),
  z.array(
    z.looseObject({
      name: z.string(),
      lastCheck: z.string().nullish(),
      lastError: z.string().nullish(),
      labelSets: z.array(LabelsSchema).nullish(),
      minTime: Int64Schema,
      maxTime: Int64Schema,
    }),
  ),
);

const TargetSchema = z.looseObject({
  discoveredLabels: LabelsSchema.optional(),
  labels: LabelsSchema,
  scrapePool: z.string(),
  scrapeUrl: z.string(),
  lastError: z.string(),
  lastScrape: z.string(),
  health: z.string(),
});
const TargetsSchema = z.looseObject({
  activeTargets: z.array(TargetSchema).nullish(),
  droppedTargets: z.array(z.looseObject({ discoveredLabels: LabelsSchema.optional() })).nullish(),
});

const AlertSchema = z.looseObject({
  labels: LabelsSchema,
  annotations: LabelsSchema.nullish(),
  state: z.string(),
  activeAt: z.string().nullish(),
  value: z.string().optional(),
});

const RuleSchema = z.looseObject({
  type: z.enum(['alerting', 'recording']),
  name: z.string(),
  query: z.string(),
  health: z.string(),
  lastError: z.string().nullish(),
  state: z.string().optional(),
  labels: LabelsSchema.nullish(),
  alerts: z.array(AlertSchema).nullish(),
});
const RulesSchema = z.looseObject({
  groups: z.array(z.looseObject({ name: z.string(), file: z.string(), rules: z.array(RuleSchema) })),
});

export type Target = z.infer<typeof TargetSchema>;
export type Alert = z.infer<typeof AlertSchema>;
export type Rule = z.infer<typeof RuleSchema>;
export type RuleGroups = z.infer<typeof RulesSchema>['groups'];

// ---- the client ----

export class PromApiClient {
  readonly baseUrl: string;
  readonly timeoutMs: number;

  constructor(baseUrl: string, opts: { timeoutMs?: number } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  async query(expr: string, opts: InstantQueryOptions = {}): Promise<QueryResponse> {
    const params = new URLSearchParams({ query: expr });
    if (opts.time !== undefined) params.set('time', msToSeconds(opts.time));
    if (opts.lookbackDelta !== undefined) params.set('lookback_delta', msToSeconds(opts.lookbackDelta));
    addThanosParams(params, opts);
    const { data, annotations } = await this.#api('/api/v1/query', params);
    return { ...toQueryResult(this.#parse('/api/v1/query', QueryResultSchema, data)), ...annotations };
  }

  async queryRange(expr: string, opts: RangeQueryOptions): Promise<RangeQueryResponse> {
    const params = new URLSearchParams({
      query: expr,
      start: msToSeconds(opts.start),
      end: msToSeconds(opts.end),
      step: msToSeconds(opts.step),
    });
    addThanosParams(params, opts);
    const { data, annotations } = await this.#api('/api/v1/query_range', params);
    const result = toQueryResult(this.#parse('/api/v1/query_range', QueryResultSchema, data));
    if (result.resultType !== 'matrix') {
      throw new PromApiError(`${this.baseUrl}/api/v1/query_range: expected a matrix, got ${result.resultType}`, this.baseUrl, 200, undefined, '');
    }
    return { ...result, ...annotations };
  }

  async series(matchers: string[], opts: SeriesOptions = {}): Promise<Labels[]> {
    const params = new URLSearchParams();
    for (const m of matchers) params.append('match[]', m);
    addRange(params, opts);
    addThanosParams(params, opts);
    const { data } = await this.#api('/api/v1/series', params);
    return this.#parse('/api/v1/series', z.array(LabelsSchema), data);
  }

  async labels(opts: SeriesOptions & { matchers?: string[] } = {}): Promise<string[]> {
    const params = new URLSearchParams();
    for (const m of opts.matchers ?? []) params.append('match[]', m);
    addRange(params, opts);
    addThanosParams(params, opts);
    const { data } = await this.#api('/api/v1/labels', params);
    return this.#parse('/api/v1/labels', z.array(z.string()).nullable(), data) ?? [];
  }

  async labelValues(name: string, opts: SeriesOptions & { matchers?: string[] } = {}): Promise<string[]> {
    const params = new URLSearchParams();
    for (const m of opts.matchers ?? []) params.append('match[]', m);
    addRange(params, opts);
    addThanosParams(params, opts);
    const path = `/api/v1/label/${encodeURIComponent(name)}/values`;
    const { data } = await this.#api(path, params);
    return this.#parse(path, z.array(z.string()).nullable(), data) ?? [];
  }

  /** Thanos query: the StoreAPI endpoints it knows, by component type ('sidecar', 'store', 'receive', 'rule', ...). */
  async stores(): Promise<Record<string, StoreEndpoint[]>> {
    // Thanos sends int64 bounds (math.MinInt64/MaxInt64 for none) that a JS number would round.
    const quoteBounds = (body: string) => body.replace(/"(minTime|maxTime)":(-?\d+)/g, '"$1":"$2"');
    const { data } = await this.#api('/api/v1/stores', new URLSearchParams(), quoteBounds);
    const parsed = this.#parse('/api/v1/stores', StoresSchema, data);
    const stores: Record<string, StoreEndpoint[]> = {};
    for (const [type, endpoints] of Object.entries(parsed)) {
      stores[type] = endpoints.map((e) => ({
        name: e.name,
        lastCheck: e.lastCheck ? Date.parse(e.lastCheck) : undefined,
        lastError: e.lastError ?? null,
        labelSets: e.labelSets ?? [],
        minTime: toBound(e.minTime),
        maxTime: toBound(e.maxTime),
        exactMinTime: e.minTime,
        exactMaxTime: e.maxTime,
      }));
    }
    return stores;
  }

  async targets(state: 'active' | 'dropped' | 'any' = 'any'): Promise<{ activeTargets: Target[]; droppedTargets: { discoveredLabels?: Labels }[] }> {
    const { data } = await this.#api('/api/v1/targets', new URLSearchParams({ state }));
    const parsed = this.#parse('/api/v1/targets', TargetsSchema, data);
    return { activeTargets: parsed.activeTargets ?? [], droppedTargets: parsed.droppedTargets ?? [] };
  }

  async alerts(): Promise<Alert[]> {
    const { data } = await this.#api('/api/v1/alerts', new URLSearchParams());
    // Thanos Ruler (pkg/api/rule/v1.go) sends {"Alerts": [...]}: an untagged Go struct field.
    const schema = z.looseObject({ alerts: z.array(AlertSchema).nullish(), Alerts: z.array(AlertSchema).nullish() });
    const parsed = this.#parse('/api/v1/alerts', schema, data);
    return parsed.alerts ?? parsed.Alerts ?? [];
  }

  async rules(type?: 'alert' | 'record'): Promise<RuleGroups> {
    const { data } = await this.#api('/api/v1/rules', new URLSearchParams(type ? { type } : {}));
    return this.#parse('/api/v1/rules', RulesSchema, data).groups;
  }

  /** GET /api/v1/status/<page>: how the server describes itself (e.g. flags.agent is "true" in agent mode). */
  async status(page: 'runtimeinfo' | 'buildinfo' | 'flags' | 'tsdb'): Promise<Record<string, unknown>> {
    const path = `/api/v1/status/${page}`;
    const { data } = await this.#api(path, new URLSearchParams());
    return this.#parse(path, z.record(z.string(), z.unknown()), data);
  }

  /** GET /-/ready: true on 200; false on any other status or if nothing answers. */
  async ready(): Promise<boolean> {
    try {
      const response = await fetch(`${this.baseUrl}/-/ready`, { signal: AbortSignal.timeout(this.timeoutMs) });
      await response.body?.cancel();
      return response.ok;
    } catch {
      return false;
    }
  }

  /** The component's own /metrics, as text (see metrics.ts to read it). */
  async metrics(): Promise<string> {
    const url = `${this.baseUrl}/metrics`;
    const { status, body } = await this.#fetchText(url);
    if (status !== 200) throw new PromApiError(`GET ${url}: HTTP ${status}: ${truncate(body)}`, url, status, undefined, body);
    return body;
  }

  async #api(path: string, params: URLSearchParams, beforeParse: (body: string) => string = (b) => b): Promise<{ data: unknown; annotations: Annotations }> {
    const query = params.toString();
    const url = `${this.baseUrl}${path}${query ? `?${query}` : ''}`;
    const { status, body } = await this.#fetchText(url);
    let json: unknown;
    try {
      json = JSON.parse(beforeParse(body));
    } catch {
      json = undefined;
    }
    const success = SuccessEnvelope.safeParse(json);
    if (status >= 200 && status < 300 && success.success) {
      return { data: success.data.data, annotations: { warnings: success.data.warnings ?? [], infos: success.data.infos ?? [] } };
    }
    const failure = ErrorEnvelope.safeParse(json);
    const errorType = failure.success ? failure.data.errorType : undefined;
    const error = failure.success ? failure.data.error : undefined;
    const what = errorType || error ? `${errorType ?? 'error'}: ${error ?? ''}` : 'not a Prometheus API answer';
    throw new PromApiError(`GET ${url}: HTTP ${status}: ${what}; body: ${truncate(body)}`, url, status, errorType, body);
  }

  async #fetchText(url: string): Promise<{ status: number; body: string }> {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      return { status: response.status, body: await response.text() };
    } catch (err) {
      const reason = (err as Error).name === 'TimeoutError' ? `timed out after ${this.timeoutMs} ms` : String((err as Error).cause ?? err);
      throw new PromApiError(`GET ${url}: ${reason}`, url, undefined, undefined, '');
    }
  }

  #parse<T extends z.ZodType>(path: string, schema: T, data: unknown): z.output<T> {
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      const body = JSON.stringify(data) ?? '';
      throw new PromApiError(`${this.baseUrl}${path}: unexpected answer: ${z.prettifyError(parsed.error)}; data: ${truncate(body)}`, `${this.baseUrl}${path}`, 200, undefined, body);
    }
    return parsed.data;
  }
}

function toQueryResult(parsed: z.output<typeof QueryResultSchema>): QueryResult {
  switch (parsed.resultType) {
    case 'vector':
      // A vector element without `value` holds a native histogram: not kept (see MatrixSeries).
      return {
        resultType: 'vector',
        result: parsed.result.flatMap((s) => (s.value ? [{ metric: s.metric, t: s.value.t, v: s.value.v }] : [])),
      };
    case 'matrix':
      return { resultType: 'matrix', result: parsed.result.map((s) => ({ metric: s.metric, samples: s.values ?? [] })) };
    case 'scalar':
      return { resultType: 'scalar', result: parsed.result };
    case 'string':
      return { resultType: 'string', result: parsed.result };
  }
}

function addThanosParams(params: URLSearchParams, opts: ThanosOptions): void {
  if (opts.dedup !== undefined) params.set('dedup', String(opts.dedup));
  if (opts.partialResponse !== undefined) params.set('partial_response', String(opts.partialResponse));
  for (const label of opts.replicaLabels ?? []) params.append('replicaLabels[]', label);
  if (opts.maxSourceResolution !== undefined) params.set('max_source_resolution', msToSeconds(opts.maxSourceResolution));
}

function addRange(params: URLSearchParams, opts: { start?: number; end?: number }): void {
  if (opts.start !== undefined) params.set('start', msToSeconds(opts.start));
  if (opts.end !== undefined) params.set('end', msToSeconds(opts.end));
}

/** ms → the API's seconds with millisecond decimals ("1764000000.500": never exponent notation). */
export function msToSeconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function secondsToMs(seconds: number): number {
  return Math.round(seconds * 1000);
}

function truncate(text: string, max = 2000): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}
