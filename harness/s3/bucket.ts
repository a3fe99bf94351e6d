// Reads the Thanos bucket the way an operator would: block directories and their meta.json.
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';

export interface S3Endpoint {
  /** URL reachable from the test process, e.g. http://127.0.0.1:9000 */
  url: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  region: string;
}

/** The parts of a Thanos block's meta.json the harness asserts on. */
export interface BlockMeta {
  ulid: string;
  minTime: number;
  maxTime: number;
  /** hints: "from-out-of-order" on a block a TSDB cut from its out-of-order head. */
  compaction: { level: number; hints?: string[] };
  stats?: { numSamples: number; numSeries: number; numChunks: number };
  thanos: { labels: Record<string, string>; source: string; downsample?: { resolution: number } };
}

export class Bucket {
  readonly client: S3Client;
  readonly endpoint: S3Endpoint;

  constructor(endpoint: S3Endpoint) {
    this.endpoint = endpoint;
    this.client = new S3Client({
      endpoint: endpoint.url,
      region: endpoint.region,
      forcePathStyle: true,
      credentials: { accessKeyId: endpoint.accessKey, secretAccessKey: endpoint.secretKey },
      maxAttempts: 2,
    });
  }

  /** Thanos never creates its bucket; the harness does. */
  async create(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.endpoint.bucket }));
    } catch {
      await this.client.send(new CreateBucketCommand({ Bucket: this.endpoint.bucket }));
    }
  }

  async keys(prefix = ''): Promise<{ key: string; size: number }[]> {
    const out: { key: string; size: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.endpoint.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) out.push({ key: o.Key!, size: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async text(key: string): Promise<string> {
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.endpoint.bucket, Key: key }));
    return await res.Body!.transformToString();
  }

  /** Blocks under a cluster prefix, oldest first. Blocks being uploaded (no meta.json yet) are left out. */
  async blocks(prefix: string): Promise<BlockMeta[]> {
    const metas = (await this.keys(`${prefix}/`)).filter((o) => /\/[0-9A-HJKMNP-TV-Z]{26}\/meta\.json$/.test(o.key));
    const blocks = await Promise.all(metas.map(async (o) => JSON.parse(await this.text(o.key)) as BlockMeta));
    return blocks.sort((a, b) => a.minTime - b.minTime || a.ulid.localeCompare(b.ulid));
  }

  /** Bytes stored under a prefix: the "storage cost" of finding F. */
  async bytes(prefix: string): Promise<number> {
    return (await this.keys(`${prefix}/`)).reduce((sum, o) => sum + o.size, 0);
  }

  close(): void {
    this.client.destroy();
  }
}
