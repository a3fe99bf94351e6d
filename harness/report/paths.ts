import { fileURLToPath } from 'node:url';

/** reports/ at the repository root (override with THANOS_HA_E2E_REPORTS). */
export const REPORTS_DIR = process.env.THANOS_HA_E2E_REPORTS ?? fileURLToPath(new URL('../../reports', import.meta.url));
export const FINDINGS_DIR = `${REPORTS_DIR}/findings`;
