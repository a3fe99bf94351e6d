import { fileURLToPath } from 'node:url';
import type { GoTool } from '../../k3s/images/go-tool.ts';

/** The relay's Go source, built into thanos-ha-e2e/workload-relay:1 by `node harness/cli.ts images`. */
export const WORKLOAD_RELAY: GoTool = { name: 'workload-relay', source: fileURLToPath(new URL('./main.go', import.meta.url)) };
