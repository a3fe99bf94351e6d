// `node harness/cli.ts cluster up|down|status|load <tar...>`: progress lines on stderr, the facts a
// user needs (kubeconfig, how to reach it) on stdout, one line per failure (the caller prints it).
import { formatElapsed } from '../binaries/go-build.ts';
import { clusterDown, clusterStatus, clusterUp, loadImages } from './index.ts';
import { DNS_SERVICE_IP, NODE_IP, PORTS } from './config.ts';

export async function runClusterCommand(args: string[], log: (line: string) => void): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'up': {
      const up = await clusterUp({ onProgress: log });
      log(`cluster up in ${formatElapsed(up.ms)} (start ${formatElapsed(up.startMs)})`);
      console.log(`kubeconfig:  ${up.kubeconfig}   (export KUBECONFIG=${up.kubeconfig})`);
      console.log(`API server:  https://127.0.0.1:${PORTS.apiserver}   node IP ${NODE_IP}`);
      console.log(`DNS:         ${up.coredns ? `CoreDNS at ${DNS_SERVICE_IP}` : 'none (no CoreDNS image)'}`);
      console.log('Services from the host: NodePorts answer on 127.0.0.1, or kubectl port-forward');
      return 0;
    }
    case 'down': {
      const started = Date.now();
      const { stopped } = await clusterDown({ onProgress: log });
      log(stopped.length ? `cluster down in ${formatElapsed(Date.now() - started)}: stopped ${stopped.join(', ')}` : 'cluster was not running; cleaned its state');
      return 0;
    }
    case 'status': {
      const status = await clusterStatus();
      console.log(`cluster dir ${status.layout.root}; binaries ${status.built ? 'built' : 'not built yet'}`);
      for (const p of status.processes) console.log(`  ${p.name.padEnd(24)} ${p.pid ? `running (pid ${p.pid})` : 'stopped'}`);
      if (status.node !== undefined) console.log(`  node: ${status.node}`);
      const running = status.processes.filter((p) => p.pid).length;
      return running === status.processes.length ? 0 : running === 0 ? 3 : 1;
    }
    case 'load': {
      if (rest.length === 0) throw new Error('cluster load needs image tars (docker save format)');
      await loadImages(rest, { onProgress: log });
      return 0;
    }
    case 'smoke': {
      const { smoke } = await import('./smoke.ts');
      await smoke({ onProgress: log });
      return 0;
    }
    default:
      throw new Error(`cluster needs up, down, status, smoke or load <tar...> (got ${sub ? `"${sub}"` : 'nothing'})`);
  }
}
