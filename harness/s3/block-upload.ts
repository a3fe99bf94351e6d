// Uploads a TSDB block made outside Thanos (promtool) the way Thanos' own block.Upload does
// (pkg/block/block.go): chunks, then index, then meta.json with a Thanos section, last, so that a
// block without meta.json is a pending upload to every reader. Tombstones are not uploaded (Thanos
// does not either).
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Bucket, BlockMeta } from './bucket.ts';

/** What Thanos reads from a block's meta.json "thanos" section (pkg/block/metadata/meta.go). */
export interface ThanosSection {
  /** External labels of the block's source; Thanos refuses a block without any. */
  labels: Record<string, string>;
  /** metadata.SourceType; "bucket.upload" is what `thanos tools bucket upload-blocks` writes. */
  source: string;
}

interface TsdbMeta {
  ulid: string;
  minTime: number;
  maxTime: number;
  [key: string]: unknown;
}

/** meta.json as the uploaded block has it: promtool's, with the Thanos section (resolution 0: raw). */
export function withThanosSection(meta: TsdbMeta, thanos: ThanosSection, files: { relPath: string; size?: number }[], uploadedAt: Date): TsdbMeta {
  return {
    ...meta,
    thanos: {
      version: 1,
      labels: thanos.labels,
      downsample: { resolution: 0 },
      source: thanos.source,
      // Sorted by path, meta.json without a size, as GatherFileStats writes them.
      files: [...files]
        .sort((a, b) => a.relPath.localeCompare(b.relPath))
        .map((f) => (f.size === undefined ? { rel_path: f.relPath } : { rel_path: f.relPath, size_bytes: f.size })),
      // Read by the Compactor's and Store's consistency delay instead of the ULID's time.
      upload_time: uploadedAt.toISOString(),
    },
  };
}

/** Uploads the block in blockDir (named by its ULID) under `prefix/`; returns the meta.json written. */
export async function uploadBlock(bucket: Bucket, prefix: string, blockDir: string, thanos: ThanosSection): Promise<BlockMeta> {
  const meta = JSON.parse(await readFile(join(blockDir, 'meta.json'), 'utf8')) as TsdbMeta;
  if (meta.ulid !== basename(blockDir)) throw new Error(`${blockDir}: meta.json names block ${meta.ulid}, not the directory's name`);
  if (Object.keys(thanos.labels).length === 0) throw new Error(`${blockDir}: a Thanos block needs external labels (Thanos refuses a block without any)`);
  const chunks = (await readdir(join(blockDir, 'chunks'))).sort().map((f) => `chunks/${f}`);
  const data = [...chunks, 'index'];
  const sizes = await Promise.all(data.map(async (relPath) => ({ relPath, size: (await stat(join(blockDir, relPath))).size })));
  const put = (relPath: string, body: Buffer | string) =>
    bucket.client.send(new PutObjectCommand({ Bucket: bucket.endpoint.bucket, Key: `${prefix}/${meta.ulid}/${relPath}`, Body: body }));
  for (const relPath of data) await put(relPath, await readFile(join(blockDir, relPath)));
  const written = withThanosSection(meta, thanos, [...sizes, { relPath: 'meta.json' }], new Date());
  await put('meta.json', JSON.stringify(written, null, '\t'));
  return written as unknown as BlockMeta;
}
