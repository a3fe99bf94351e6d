// History made without a Prometheus: promtool writes the workload's samples into TSDB blocks, and
// the harness uploads them as a Thanos uploader does (meta.json last, with a Thanos section).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uploadBlock } from '../s3/block-upload.ts';
import type { BlockMeta } from '../s3/bucket.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { promtoolBlocks } from '../workload/promtool-blocks.ts';

export interface UploadedHistory {
  /** The blocks uploaded, as their meta.json says. */
  blocks: BlockMeta[];
  /** How long promtool took to make the blocks and the harness to upload them. */
  timings: { promtoolMs: number; uploadMs: number };
}

/**
 * The workload's grid samples from window.fromMs to window.toMs (both included), made into blocks
 * by promtool and uploaded under `prefix` with these external labels, as bucket.upload would.
 */
export async function uploadPromtoolHistory(
  t: RunningTopology,
  to: { prefix: string; labels: Record<string, string> },
  window: { fromMs: number; toMs: number },
  log: (line: string) => void,
): Promise<UploadedHistory> {
  const dir = await mkdtemp(join(tmpdir(), 'thanos-ha-e2e-promtool-'));
  const timings = { promtoolMs: 0, uploadMs: 0 };
  const blocks: BlockMeta[] = [];
  try {
    let started = Date.now();
    const blockDirs = await promtoolBlocks(t.workload.workload, window, dir);
    timings.promtoolMs = Date.now() - started;
    started = Date.now();
    for (const blockDir of blockDirs) blocks.push(await uploadBlock(t.bucket, to.prefix, blockDir, { labels: to.labels, source: 'bucket.upload' }));
    timings.uploadMs = Date.now() - started;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  log(`  promtool made ${blocks.length} block(s) of ${new Date(window.fromMs).toISOString()}..${new Date(window.toMs).toISOString()} in ${timings.promtoolMs} ms, uploaded in ${timings.uploadMs} ms`);
  return { blocks, timings };
}
