// A cross-process lock file, so that two runs never provision the same binary at once.
//
// The lock file holds the pid of its owner. It is created complete and atomically (written under a
// temporary name, then hard-linked to the lock path, which fails if the lock exists). A lock whose pid
// is dead is stale (its owner crashed) and is taken over.
//
// Two waiters that find the same stale lock at the same instant could both take it over. That only
// costs a duplicate build: results reach the cache by atomic rename of a complete file, and each
// holder works in its own pid-named temporary paths, so the cache is never corrupted.
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LockOptions {
  /** Told once, when the lock is held by another live process and we start waiting. */
  onWait?: (holderPid: number) => void;
  /** Give up after this long (a build that never ends should not hang CI forever). */
  maxWaitMs?: number;
  pollMs?: number;
}

export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  await acquire(lockPath, options);
  try {
    return await fn();
  } finally {
    await release(lockPath);
  }
}

async function acquire(lockPath: string, { onWait, maxWaitMs = 60 * 60_000, pollMs = 250 }: LockOptions): Promise<void> {
  const started = Date.now();
  let toldWaiting = false;
  for (;;) {
    if (await tryCreate(lockPath)) return;

    const holder = await readHolderPid(lockPath);
    if (holder === undefined) continue; // released between our attempt and our read: try again
    if (!isProcessAlive(holder)) {
      await unlink(lockPath).catch(ignoreMissing); // stale: its owner died
      continue;
    }
    if (!toldWaiting) {
      onWait?.(holder);
      toldWaiting = true;
    }
    if (Date.now() - started > maxWaitMs) {
      throw new Error(`gave up after ${Math.round(maxWaitMs / 60_000)} min waiting for pid ${holder} to release ${lockPath}`);
    }
    await sleep(pollMs);
  }
}

async function tryCreate(lockPath: string): Promise<boolean> {
  const scratch = `${lockPath}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await writeFile(scratch, `${process.pid}\n`);
  try {
    await link(scratch, lockPath);
    return true;
  } catch (error) {
    if (isErrno(error, 'EEXIST')) return false;
    throw error;
  } finally {
    await unlink(scratch).catch(ignoreMissing);
  }
}

async function release(lockPath: string): Promise<void> {
  // Only remove the lock if it is still ours (a waiter may have judged us stale and taken over).
  if ((await readHolderPid(lockPath)) === process.pid) await unlink(lockPath).catch(ignoreMissing);
}

/** The pid in a lock file, or undefined if there is no lock file. */
export async function readHolderPid(lockPath: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(lockPath, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
  const pid = Number.parseInt(text, 10);
  // A lock file is always written complete, so garbage means someone else's file: treat as stale (pid 0 is never alive here).
  return Number.isInteger(pid) && pid > 0 ? pid : 0;
}

export function isProcessAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0); // signal 0: only checks that the process exists
    return true;
  } catch (error) {
    return isErrno(error, 'EPERM'); // exists, but belongs to another user
  }
}

export function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

export function ignoreMissing(error: unknown): void {
  if (!isErrno(error, 'ENOENT')) throw error;
}
