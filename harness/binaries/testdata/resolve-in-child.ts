// Run as a separate process by provision.test.ts, to prove two processes share the cache safely:
//   node resolve-in-child.ts <cache dir> <builds log>
// Resolves thanos with the slow fake builder; prints the ResolvedBinary as JSON on stdout and
// progress lines on stderr.
import { resolveBinary } from '../provision.ts';
import { slowFakeBuilder } from './fake-binaries.ts';

const [cacheDir, buildsLog] = process.argv.slice(2);
if (!cacheDir || !buildsLog) throw new Error('usage: resolve-in-child.ts <cache dir> <builds log>');

const resolved = await resolveBinary('thanos', {
  env: { THANOS_HA_E2E_CACHE: cacheDir, THANOS_HA_E2E_NO_DOWNLOAD: '1', PATH: process.env.PATH },
  // 3 s: long enough that the other child (whose Node start can lag a second on a loaded
  // 2-core machine) arrives while this build still holds the lock.
  build: slowFakeBuilder(buildsLog, 'thanos, version 0.42.4 (fake)', 300),
  onProgress: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(JSON.stringify(resolved));
