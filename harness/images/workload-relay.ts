import { fileURLToPath } from 'node:url';
import type { GoTool } from './go-tool.ts';

/**
 * The relay's Go source, built into thanos-ha-e2e/workload-relay:1 by `node harness/cli.ts images`.
 * The source lives with the deploy path that runs it (its tunnel is workload-relay/tunnel.ts there).
 */
export const WORKLOAD_RELAY: GoTool = {
  name: 'workload-relay',
  source: fileURLToPath(new URL('../substrates/kubernetes/workload-relay/main.go', import.meta.url)),
};
