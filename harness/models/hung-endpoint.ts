// What Thanos Query does when the link to an endpoint hangs (packets dropped, nothing reset): how
// long a query that reaches the endpoint waits, and by when a plain endpoint is left out. Read from
// Thanos v0.42 and the grpc-go it builds with (v1.81):
// - every StoreAPI connection has gRPC keepalive {Time: 10s, Timeout: 5s} (pkg/extgrpc/client.go):
//   with a stream open, 10 s after the last byte read it sends a ping and closes the connection
//   when nothing is read for 5 s more; a transport that was idle pings as soon as a stream opens,
//   so the connection dies 5-15 s after a query's stream opened on it. grpc-go also sets
//   TCP_USER_TIMEOUT to the 5 s, which ends a connection whose sent bytes get no TCP ack (a real
//   drop) after about 5 s: not before the keepalive's earliest.
// - `--store.response-timeout` (proxy_merge.go, frameTimeout): a stream that delivers nothing for
//   that long is cancelled: "failed to receive any data in <timeout> from <endpoint>".
// - `--query.timeout`: the whole query's deadline.
// - a new connection waits for the server's HTTP/2 preface up to grpc-go's minimum connect timeout,
//   20 s; a stream opened meanwhile waits with it, then fails (Unavailable).
// - health checks (cmd/thanos/endpointset.go): every `--endpoint.info-timeout` (5 s), each bounded
//   by the same timeout; a plain endpoint whose last check failed is left out of every query
//   (endpointset.go isQueryable), a strict one never is.

/** A Query's timeouts in milliseconds (plan/query.ts reads them from a planned Query). */
export interface QueryTimeouts {
  /** `--query.timeout` */
  queryMs: number;
  /** `--store.response-timeout`; 0: off. */
  storeResponseMs: number;
  /** `--endpoint.info-timeout`, also the health-check interval. */
  endpointInfoMs: number;
}

/** Thanos' gRPC client keepalive on StoreAPI connections (pkg/extgrpc/client.go). */
export const THANOS_GRPC_KEEPALIVE = { timeMs: 10_000, timeoutMs: 5_000 } as const;

export type HungWaitEnd = 'store response timeout' | 'gRPC keepalive' | 'query timeout';

/** How long a query waits on an endpoint whose link hangs, counted from when the query was sent. */
export interface HungWait {
  /** No end can come sooner. */
  atLeastMs: number;
  /** By then `endedBy` has ended it, if nothing did sooner. */
  atMostMs: number;
  endedBy: HungWaitEnd;
  /** Nothing else can end it before endedBy does: then the wait is endedBy's, and Query's text names it. */
  certain: boolean;
}

/**
 * A query sent sentMs after the link hung, over a connection that was open before: the endpoint's
 * stream gets nothing until the first of these ends it:
 * - the store response timeout, exactly its value after the query's stream opened;
 * - the query timeout, exactly its value;
 * - gRPC's keepalive (or TCP's user timeout, where packets are dropped): both need 5 s of silence
 *   that began with the hang, maybe before the query was sent, and the keepalive ends it at the
 *   latest 15 s after the stream opened.
 */
export function hungStreamWait(t: QueryTimeouts, sentMs = 0): HungWait {
  const k = THANOS_GRPC_KEEPALIVE;
  const ends: Omit<HungWait, 'certain'>[] = [
    { endedBy: 'gRPC keepalive', atLeastMs: Math.max(0, k.timeoutMs - sentMs), atMostMs: k.timeMs + k.timeoutMs },
    { endedBy: 'query timeout', atLeastMs: t.queryMs, atMostMs: t.queryMs },
  ];
  if (t.storeResponseMs > 0) ends.push({ endedBy: 'store response timeout', atLeastMs: t.storeResponseMs, atMostMs: t.storeResponseMs });
  const first = ends.reduce((a, b) => (b.atMostMs < a.atMostMs ? b : a));
  return {
    ...first,
    atLeastMs: Math.min(...ends.map((e) => e.atLeastMs)),
    certain: ends.every((e) => e === first || e.atLeastMs >= first.atMostMs),
  };
}

/**
 * A query sent at any time while the link hangs, to an endpoint Query keeps asking (a strict
 * one): its open connection waits as hungStreamWait says; once the keepalive has closed it, the
 * stream waits on a redial, and `--store.response-timeout` does not cover that wait (proxy_merge.go
 * arms it after `Series()` returned a stream; `Series()` itself blocks while the channel connects).
 * Each redial waits for a preface that never comes for grpc-go's connect timeout, 20 s from when
 * that attempt began, which need not be when the query was sent: answers 24.9 s after sending were
 * seen twice here (docs/substrates.md). Only the query timeout is certain.
 */
export function anyHungQueryAtMostMs(t: QueryTimeouts): number {
  return t.queryMs;
}

/**
 * By when, after the link hung, Query's health checks have failed for an endpoint behind it: the
 * next check starts within one interval and fails at its timeout (both endpoint info timeout).
 */
export function checkFailsWithinMs(t: QueryTimeouts): number {
  return 2 * t.endpointInfoMs;
}
