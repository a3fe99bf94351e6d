import { describe, expect, it } from 'vitest';
import { anyHungQueryAtMostMs, checkFailsWithinMs, hungStreamWait } from './hung-endpoint.ts';

// Thanos' defaults: --query.timeout 2m, --store.response-timeout off, --endpoint.info-timeout 5s.
const DEFAULTS = { queryMs: 120_000, storeResponseMs: 0, endpointInfoMs: 5_000 };

describe('hungStreamWait', () => {
  it("with Thanos' defaults (the note's Query) only gRPC's keepalive ends the wait: 5 to 15 s", () => {
    expect(hungStreamWait(DEFAULTS)).toEqual({ endedBy: 'gRPC keepalive', atLeastMs: 5_000, atMostMs: 15_000, certain: true });
  });

  it('counts the keepalive\'s 5 s of silence from the hang, so a query sent later may see it sooner', () => {
    expect(hungStreamWait(DEFAULTS, 1_500)).toMatchObject({ endedBy: 'gRPC keepalive', atLeastMs: 3_500, atMostMs: 15_000 });
  });

  it('a store response timeout below the keepalive ends it at exactly its value', () => {
    expect(hungStreamWait({ ...DEFAULTS, storeResponseMs: 3_000 })).toEqual({ endedBy: 'store response timeout', atLeastMs: 3_000, atMostMs: 3_000, certain: true });
    expect(hungStreamWait({ ...DEFAULTS, storeResponseMs: 3_000 }, 1_999)).toMatchObject({ endedBy: 'store response timeout', certain: true });
  });

  it('is not sure of it once the query was sent so late after the hang that the keepalive may come first', () => {
    expect(hungStreamWait({ ...DEFAULTS, storeResponseMs: 3_000 }, 2_500)).toEqual({ endedBy: 'store response timeout', atLeastMs: 2_500, atMostMs: 3_000, certain: false });
  });

  it('one inside the keepalive window ends it by its value, though the keepalive may come first', () => {
    expect(hungStreamWait({ ...DEFAULTS, storeResponseMs: 8_000 })).toEqual({ endedBy: 'store response timeout', atLeastMs: 5_000, atMostMs: 8_000, certain: false });
  });

  it('a query timeout shorter than everything else ends it', () => {
    expect(hungStreamWait({ ...DEFAULTS, queryMs: 2_000, storeResponseMs: 3_000 })).toEqual({ endedBy: 'query timeout', atLeastMs: 2_000, atMostMs: 2_000, certain: true });
  });
});

describe('anyHungQueryAtMostMs', () => {
  it('is the query timeout: a redial\'s connect timeout (20 s) need not begin when the query was sent', () => {
    expect(anyHungQueryAtMostMs(DEFAULTS)).toBe(120_000);
    expect(anyHungQueryAtMostMs({ ...DEFAULTS, storeResponseMs: 3_000 })).toBe(120_000);
    expect(anyHungQueryAtMostMs({ ...DEFAULTS, queryMs: 10_000 })).toBe(10_000);
  });
});

describe('checkFailsWithinMs', () => {
  it('is one check interval to the next check plus its timeout', () => {
    expect(checkFailsWithinMs(DEFAULTS)).toBe(10_000);
  });
});
