#!/usr/bin/env node
// npm run test:kube-two-clusters [-- --s3 versitygw|localstack] [vitest filters...]
//
// The kube substrate as users of real clusters run it (two existing contexts, an S3 both reach),
// repeatable on one machine (issue 22, item 5): two kind clusters made here (observer, observee) on
// a Docker network of the run's own, with the component images loaded (the kind substrate's own
// code: startKindRun, loadComponentImages); one kubeconfig in the run's directory with a context per
// cluster; S3 as a process of this machine listening on that network's gateway (the host's address
// on the run's own network, which both clusters' pods reach and so does the test process); then
// `vitest run --project e2e` on the kube substrate with
//
//   THANOS_HA_E2E_SUBSTRATE=kube  KUBECONFIG=<run dir>/kubeconfig
//   THANOS_HA_E2E_KUBE_CONTEXTS=observer=kind-<run>-observer,observee=kind-<run>-observee
//   THANOS_HA_E2E_S3_ENDPOINT=<gateway>:<port> (+ bucket, keys, THANOS_HA_E2E_S3_INSECURE=1,
//   THANOS_HA_E2E_S3_CREATE_BUCKET=1: a fresh bucket per topology, as kind gives each a fresh S3)
//
// and the remaining arguments passed to vitest (file filters, -t). The scenario files kube cannot
// run (the link cut, the S3 outage of an S3 it does not run) are skipped in one line each.
// However it ends (pass, failure, Ctrl-C, SIGTERM) the clusters, the network, the S3 process and the
// run's directory are removed: by the kind run's teardown, or its reaper if this process is killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { constants } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import type { Env } from './binaries/cache.ts';
import { resolveBinary } from './binaries/provision.ts';
import { OBSERVEE, OBSERVER } from './presets/conventions.ts';
import { S3_CREDENTIALS } from './s3/versitygw.ts';
import { kindClustersUnavailable, loadComponentImages, startKindRun, type KindRun } from './substrates/kind/index.ts';
import { gatewayOf } from './substrates/kind/run-resources.ts';
import { killRun } from './substrates/process/janitor.ts';
import { freePort } from './substrates/process/ports.ts';
import { startS3Server } from './substrates/process/s3-server.ts';
import { resolveLocalstack } from './binaries/localstack.ts';
import { registerCleanup } from './substrates/teardown.ts';

export const USAGE = `usage: npm run test:kube-two-clusters [-- [--s3 versitygw|localstack] [vitest arguments...]]

Makes two kind clusters (observer, observee) and an S3 on their Docker network's gateway, then runs
every scenario file (or those the vitest arguments select) on the kube substrate through two
kubeconfig contexts, as on two real clusters; removes everything however it ends.
  --s3 B   the S3: versitygw (default; THANOS_HA_E2E_S3 sets the default too) or localstack
  -h       this text`;

export const ROLES = [OBSERVER, OBSERVEE] as const;
export type HostS3 = 'versitygw' | 'localstack';
export const S3_BUCKET = 'thanos-ha-e2e';

export interface TwoClustersArgs {
  s3: HostS3;
  /** Passed to `vitest run --project e2e` as they are: file filters, -t, --bail... */
  vitest: string[];
  help: boolean;
}

const isHostS3 = (value: string | undefined): value is HostS3 => value === 'versitygw' || value === 'localstack';

/** The command line; a bad one is a one-line error. */
export function parseTwoClustersArgs(argv: string[], env: Env = process.env): TwoClustersArgs {
  const fromEnv = env.THANOS_HA_E2E_S3;
  if (fromEnv && !isHostS3(fromEnv)) throw new Error(`THANOS_HA_E2E_S3="${fromEnv}" is not an S3 of this command: use versitygw or localstack`);
  const args: TwoClustersArgs = { s3: isHostS3(fromEnv) ? fromEnv : 'versitygw', vitest: [], help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') args.help = true;
    else if (arg === '--s3' || arg.startsWith('--s3=')) {
      const value = arg === '--s3' ? argv[++i] : arg.slice('--s3='.length);
      if (!isHostS3(value)) throw new Error(`--s3 ${value ?? '(nothing)'}: use --s3 versitygw or --s3 localstack`);
      args.s3 = value;
    } else if (arg === '--') continue;
    else if (arg === '--project' || arg.startsWith('--project=')) throw new Error(`${arg}: the command runs the e2e project on the kube substrate; give file filters or -t instead`);
    else args.vitest.push(arg);
  }
  return args;
}

/**
 * One kubeconfig with every role's cluster, user and context (kind names them kind-<cluster name>,
 * unique per run); returns it and each role's context.
 */
export function twoContextKubeconfig(byRole: Record<string, KubeConfig>): { kubeConfig: KubeConfig; contexts: Record<string, string> } {
  const merged = { clusters: [] as KubeConfig['clusters'], users: [] as KubeConfig['users'], contexts: [] as KubeConfig['contexts'] };
  const contexts: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [role, kc] of Object.entries(byRole)) {
    const contextName = kc.getCurrentContext();
    const context = kc.getContextObject(contextName);
    const cluster = context && kc.getCluster(context.cluster);
    const user = context?.user ? kc.getUser(context.user) : null;
    if (!context || !cluster || !user) throw new Error(`the kubeconfig of ${role} has no complete current context (context "${contextName}", its cluster and user)`);
    for (const [kind, name] of [['context', context.name], ['cluster', cluster.name], ['user', user.name]] as const) {
      if (seen.has(`${kind}/${name}`)) throw new Error(`the kubeconfigs of the roles share the ${kind} name "${name}": cannot merge them into one file`);
      seen.add(`${kind}/${name}`);
    }
    merged.clusters.push(cluster);
    merged.users.push(user);
    merged.contexts.push(context);
    contexts[role] = context.name;
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({ ...merged, currentContext: merged.contexts[0]?.name ?? '' });
  return { kubeConfig, contexts };
}

/** THANOS_HA_E2E_KUBE_CONTEXTS for these contexts. */
export const contextsVariable = (contexts: Record<string, string>): string =>
  Object.entries(contexts)
    .map(([role, context]) => `${role}=${context}`)
    .join(',');

/** Variables of the caller's that would point the run somewhere else: the command sets the kube substrate's whole configuration. */
const OVERRIDDEN = /^(THANOS_HA_E2E_KUBE_NODE_|THANOS_HA_E2E_KUBE_PROXY_METRICS$|THANOS_HA_E2E_STORAGE_CLASS$|THANOS_HA_E2E_UNAVAILABLE_|AWS_)/;

/** The environment of the vitest run: the caller's, minus what would redirect it, plus the kube substrate's configuration. */
export function kubeTwoClustersEnv(base: Env, run: { kubeconfig: string; contexts: Record<string, string>; s3Endpoint: string }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) if (value !== undefined && !OVERRIDDEN.test(name)) env[name] = value;
  return {
    ...env,
    THANOS_HA_E2E_SUBSTRATE: 'kube',
    // Contexts that cannot be reached fail the run in one line instead of skipping every file.
    THANOS_HA_E2E_REQUIRE_SUBSTRATE: '1',
    KUBECONFIG: run.kubeconfig,
    THANOS_HA_E2E_KUBE_CONTEXTS: contextsVariable(run.contexts),
    THANOS_HA_E2E_S3_ENDPOINT: run.s3Endpoint,
    THANOS_HA_E2E_S3_BUCKET: S3_BUCKET,
    THANOS_HA_E2E_S3_INSECURE: '1',
    THANOS_HA_E2E_S3_CREATE_BUCKET: '1',
    AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKey,
    AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretKey,
    AWS_REGION: S3_CREDENTIALS.region,
  };
}

/** vitest's arguments: the e2e project (the substrate comes from the environment), then the caller's. */
export const vitestArgv = (extra: string[]): string[] => ['run', '--project', 'e2e', ...extra];

const log = (line: string) => process.stderr.write(`${line}\n`);
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(0)}s`;

/** Awaits work, printing a line every 15 s so that a long wait is never silent. */
async function withHeartbeat<T>(what: string, work: Promise<T>): Promise<T> {
  const started = Date.now();
  const timer = setInterval(() => log(`  still ${what} (${seconds(started)})`), 15_000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/** Runs vitest in its own process group: a Ctrl-C reaches it once, forwarded from here (its signal handling takes a second signal as "exit now"). */
function runVitest(argv: string[], env: Record<string, string>): { child: ChildProcess; exited: Promise<number> } {
  const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
  const child = spawn(process.execPath, [vitest, ...argv], { env, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + constants.signals[signal] : 1)));
    child.on('error', (err) => {
      log(`kube-two-clusters: cannot start vitest: ${err.message}`);
      resolve(1);
    });
  });
  return { child, exited };
}

async function main(argv: string[]): Promise<number> {
  const env = process.env;
  const args = parseTwoClustersArgs(argv, env);
  if (args.help) {
    log(USAGE);
    return 0;
  }
  const started = Date.now();
  const unavailable = await kindClustersUnavailable(env, { onProgress: log });
  if (unavailable) throw new Error(`cannot make the kind clusters: ${unavailable}`);
  // The S3 as the process substrate runs it (s3-server.ts): versitygw, or the pinned LocalStack from its venv.
  const versitygw = args.s3 === 'versitygw' ? (await resolveBinary('versitygw', { onProgress: log })).path : undefined;
  const localstack = args.s3 === 'localstack' ? await resolveLocalstack({ onProgress: log }) : undefined;

  // The clusters, the network and the run's directory: registered for teardown (and a reaper) by startKindRun.
  const run: KindRun = await withHeartbeat('creating the kind clusters', startKindRun([...ROLES], { env, onProgress: log }));
  const teardown: (() => Promise<void>)[] = [];
  try {
    await withHeartbeat('loading the component images', loadComponentImages(run, [...ROLES], env));

    // S3 on the gateway of the run's own network: both clusters' pods reach it through their node, the test process directly.
    const gateway = await gatewayOf(run.id, env);
    const port = await freePort();
    const s3 = await startS3Server({ backend: args.s3, binaryPath: versitygw, localstack, runDir: run.dir, host: gateway, port, bucket: S3_BUCKET, onUnexpectedExit: (reason) => log(`kube-two-clusters: S3 (${args.s3}) exited: ${reason}`) });
    teardown.push(registerCleanup('kube-two-clusters S3', async () => s3.bucket.close(), () => undefined), registerCleanup('kube-two-clusters S3 process', () => s3.process.stop(), () => s3.process.killNow()));
    log(`S3 (${args.s3}) on ${gateway}:${port}, the gateway of Docker network ${run.id}, bucket ${S3_BUCKET}`);

    const { kubeConfig, contexts } = twoContextKubeconfig(Object.fromEntries(ROLES.map((r) => [r, run.clusters[r]!.kubeConfig])));
    const kubeconfig = join(run.dir, 'kubeconfig');
    await writeFile(kubeconfig, kubeConfig.exportConfig());
    await chmod(kubeconfig, 0o600);
    const vitestEnv = kubeTwoClustersEnv(env, { kubeconfig, contexts, s3Endpoint: `${gateway}:${port}` });
    log(`two clusters ready in ${seconds(started)}: THANOS_HA_E2E_KUBE_CONTEXTS=${vitestEnv.THANOS_HA_E2E_KUBE_CONTEXTS} KUBECONFIG=${kubeconfig}`);
    log(`vitest ${vitestArgv(args.vitest).join(' ')} (substrate kube)`);

    const vitest = runVitest(vitestArgv(args.vitest), vitestEnv);
    // On SIGINT/SIGTERM: the signal once to vitest, which tears its topologies down (bounded), then ours.
    teardown.push(
      registerCleanup(
        'kube-two-clusters vitest',
        async () => {
          if (vitest.child.exitCode !== null || vitest.child.signalCode !== null) return;
          vitest.child.kill('SIGINT');
          const timer = setTimeout(() => vitest.child.pid && killGroup(vitest.child.pid), 12_000);
          await vitest.exited;
          clearTimeout(timer);
        },
        () => vitest.child.pid && killGroup(vitest.child.pid),
      ),
    );
    const code = await vitest.exited;
    log(`vitest exited ${code} after ${seconds(started)} in all; removing the clusters, the network and S3`);
    return code;
  } finally {
    for (const step of teardown.reverse()) await step().catch((err: unknown) => log(`kube-two-clusters: teardown: ${err instanceof Error ? err.message : String(err)}`));
    killRun(run.dir); // an S3 that failed to start before its cleanup was registered (it carries the run's marker)
    await run.release();
  }
}

/** SIGKILL to vitest's process group (its workers too): only when it did not finish its teardown in time. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      log(`kube-two-clusters: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
