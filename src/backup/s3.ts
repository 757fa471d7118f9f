// The ONE place the bot talks to S3: the backup bucket of config.backup. Credentials come from
// the AWS SDK's default provider chain (env, IRSA web identity) and are never logged.
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Config } from '../config/schema.js';
import { NotFoundError, UnreachableError, errorMessage } from '../core/errors.js';
import { redactText } from '../core/redact.js';

export interface ObjectHead {
  key: string;
  size: number;
  lastModified?: Date;
  etag?: string;
  metadata: Record<string, string>;
}

export interface ListedObject {
  key: string;
  size: number;
  lastModified?: Date;
}

// The AWS SDK warns on Node < 22 that its releases after January 2027 will need Node 22. The
// lock file pins a release that supports the Node this project runs on (>= 20.19), and the image
// runs Node 22, so the warning would only repeat that at every first S3 call.
if (Number(process.versions.node.split('.')[0]) < 22) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export class BackupBucket {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  readonly partSize: number;
  readonly partsInFlight: number;

  constructor(config: Config['backup']) {
    this.bucket = config.bucket;
    this.prefix = config.prefix;
    this.partSize = config.partSizeMiB * 1024 * 1024;
    this.partsInFlight = config.partsInFlight;
    this.client = new S3Client({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.forcePathStyle,
      // Checksums only where S3 requires them: the default CRC32 of a streamed body uses
      // aws-chunked framing that S3 clones (MinIO versions, s3rver) store as is. Our own
      // sha256 covers integrity end to end.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
    });
  }

  url(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  /** Every object under `prefix` (default: the backup prefix), a page at a time; not recursive into "folders". */
  async *list(prefix = this.prefix, signal?: AbortSignal): AsyncGenerator<ListedObject> {
    let token: string | undefined;
    do {
      const page = await this.send('list', this.url(prefix), () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }), { abortSignal: signal }),
      );
      for (const o of page.Contents ?? []) if (o.Key) yield { key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async head(key: string, signal?: AbortSignal): Promise<ObjectHead> {
    const r = await this.send('head', this.url(key), () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal }));
    return { key, size: r.ContentLength ?? 0, lastModified: r.LastModified, etag: r.ETag, metadata: r.Metadata ?? {} };
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.head(key);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  /** The object's bytes as a stream (never whole in memory); `etag` pins the version read. */
  async get(key: string, opts: { etag?: string; signal?: AbortSignal } = {}): Promise<Readable> {
    const r = await this.send('get', this.url(key), () =>
      this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(opts.etag ? { IfMatch: opts.etag } : {}) }), { abortSignal: opts.signal }),
    );
    if (!(r.Body instanceof Readable)) throw new UnreachableError(`S3 get ${this.url(key)}: no body stream`);
    return r.Body;
  }

  /** A small object (a manifest) written whole. */
  async put(key: string, text: string, contentType = 'application/json'): Promise<void> {
    await this.send('put', this.url(key), () => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: text, ContentType: contentType })));
  }

  /** A small object's text (a manifest), refused past `limit` bytes. */
  async getText(key: string, opts: { signal?: AbortSignal; limit?: number } = {}): Promise<string> {
    const limit = opts.limit ?? 64 * 1024;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of await this.get(key, opts)) {
      size += (chunk as Buffer).length;
      if (size > limit) throw new UnreachableError(`${this.url(key)} is larger than ${limit} bytes; it is not a manifest.`);
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async delete(key: string): Promise<void> {
    await this.send('delete', this.url(key), () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  /**
   * A multipart upload of `body` (lib-storage: parts of partSize, partsInFlight at once). A failure of
   * the body or of S3 aborts the multipart upload, so no partial object is ever visible. `metadata`
   * is sent with CreateMultipartUpload: S3 fixes it then, so only what is known at the start.
   */
  async upload(key: string, body: Readable, opts: { metadata?: Record<string, string>; onProgress?: (uploaded: number) => void } = {}): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/gzip', ...(opts.metadata ? { Metadata: opts.metadata } : {}) },
      partSize: this.partSize,
      queueSize: this.partsInFlight,
      leavePartsOnError: false,
    });
    if (opts.onProgress) upload.on('httpUploadProgress', (p) => opts.onProgress?.(p.loaded ?? 0));
    await this.send('upload', this.url(key), () => upload.done());
  }

  private async send<T>(op: string, where: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw s3Error(err, op, where);
    }
  }
}

/** S3 failures in words: which call, which object, what S3 said. */
export function s3Error(err: unknown, op: string, where: string): Error {
  if (err instanceof NotFoundError || err instanceof UnreachableError) return err;
  if (err instanceof S3ServiceException) {
    const status = err.$metadata?.httpStatusCode;
    if (status === 404 || err.name === 'NoSuchKey' || err.name === 'NotFound') return new NotFoundError(`${where} does not exist.`);
    if (err.name === 'NoSuchBucket') return new NotFoundError(`The S3 bucket of ${where} does not exist (config backup.bucket).`);
    return new UnreachableError(`S3 ${op} ${where} failed: ${err.name}${status ? ` (HTTP ${status})` : ''}${err.message && err.message !== err.name ? `: ${redactText(err.message)}` : ''}`);
  }
  return new UnreachableError(`S3 ${op} ${where} failed: ${redactText(errorMessage(err))}`);
}
