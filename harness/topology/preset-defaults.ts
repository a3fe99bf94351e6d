// What every preset shares: the note's two cluster roles, and the upstream intervals presets shorten
// because they only delay what a test waits for (never what a finding depends on).
export const OBSERVER = 'observer';
export const OBSERVEE = 'observee';

/** Store's bucket sync (upstream 15m). */
export const TEST_STORE_SYNC = '10s';
/** The sidecar's re-read of its Prometheus' oldest sample (upstream 30s), which the Stores page shows. */
export const TEST_SIDECAR_REFRESH = '5s';
