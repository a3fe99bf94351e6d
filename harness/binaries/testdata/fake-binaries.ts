// Helpers for the unit tests: stand-in executables and a slow fake builder.
// These stand in for the *provisioning* (a download or a 10-minute go build), never for Thanos or
// Prometheus behaviour: the fakes only answer --version.
import { appendFile, chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Builder } from '../go-build.ts';

/** A shell script that answers --version like the real binary would. */
export function fakeBinaryScript(versionLine: string): string {
  return `#!/bin/sh\necho '${versionLine}'\n`;
}

export async function writeFakeBinary(path: string, versionLine: string, mode = 0o755): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, fakeBinaryScript(versionLine));
  await chmod(path, mode);
  return path;
}

/**
 * A builder that takes a while and writes its output in pieces, so a partial file exists for a
 * moment (at its own path, which must never be the final one). Each build appends a line to buildsLog.
 */
export function slowFakeBuilder(buildsLog: string, versionLine: string, pieceDelayMs = 40): Builder {
  return async ({ name, workDir }) => {
    await appendFile(buildsLog, `${process.pid}\n`);
    await mkdir(workDir, { recursive: true });
    const output = join(workDir, name);
    await writeFile(output, '#!/bin/sh\n', { mode: 0o755 });
    for (let piece = 0; piece < 10; piece++) {
      await appendFile(output, `# piece ${piece}\n`);
      await sleep(pieceDelayMs);
    }
    await appendFile(output, `echo '${versionLine}'\n`);
    return output;
  };
}

/** What slowFakeBuilder's output contains once complete. */
export function slowFakeBuilderOutput(versionLine: string): string {
  let text = '#!/bin/sh\n';
  for (let piece = 0; piece < 10; piece++) text += `# piece ${piece}\n`;
  return `${text}echo '${versionLine}'\n`;
}
