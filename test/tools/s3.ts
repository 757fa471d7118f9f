// S3 for tests: s3rver (a real S3 REST implementation in Node) in a temp dir, behind a small
// HTTP peer that (1) answers AbortMultipartUpload, which s3rver refuses with 405, recording
// it and dropping the upload so CompleteMultipartUpload can't resurrect it, and (2) injects
// faults a test switches on: a 500 on one part number, or on every manifest upload.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3RVER_ENV, startS3rver } from '../../src/sandbox/s3/server.js';

export interface S3Faults {
  /** UploadPart with this part number answers 500 (every attempt, so SDK retries don't hide it). */
  failPart?: number;
  /** A PutObject of a backup's manifest (`….manifest.json`) answers 500: the dump is whole, its completion fails. */
  failManifest?: boolean;
  /** CreateMultipartUpload is answered this late (a failure can then land before the client knows the upload's id). */
  createDelayMs?: number;
  /** Each UploadPart is answered this late (so parts the client sends at once are seen at once). */
  partDelayMs?: number;
}

export interface TestS3 {
  endpoint: string;
  /** s3rver itself, without the fault-injecting peer (benchmarks: it copies every byte once more). */
  s3rverEndpoint: string;
  bucket: string;
  faults: S3Faults;
  /** Upload ids the client aborted. */
  aborted: string[];
  /** Every request as "METHOD path?query" (for assertions on what the bot asked). */
  requests: string[];
  /** maxPartsInFlight: the most UploadPart requests open at one time. */
  stats: { maxPartsInFlight: number };
  stop(): Promise<void>;
}

const ERROR_500 = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>';

export async function startS3(bucket = 'vlinders-backups'): Promise<TestS3> {
  const inner = await startS3rver(bucket);
  const faults: S3Faults = {};
  const aborted: string[] = [];
  const requests: string[] = [];
  const abortedIds = new Set<string>();
  const stats = { maxPartsInFlight: 0 };
  let partsInFlight = 0;

  const answer = (res: ServerResponse, status: number, body = '') => {
    res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://s3');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const uploadId = url.searchParams.get('uploadId');
    const drain = () => req.resume();
    if (req.method === 'DELETE' && uploadId) {
      aborted.push(uploadId);
      abortedIds.add(uploadId);
      drain();
      return answer(res, 204);
    }
    if (uploadId && abortedIds.has(uploadId)) {
      drain();
      return answer(res, 404, '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>The upload was aborted.</Message></Error>');
    }
    if (req.method === 'PUT' && uploadId && faults.failPart !== undefined && url.searchParams.get('partNumber') === String(faults.failPart)) {
      drain();
      return answer(res, 500, ERROR_500);
    }
    if (req.method === 'PUT' && faults.failManifest && !uploadId && url.pathname.endsWith('.manifest.json')) {
      drain();
      return answer(res, 500, ERROR_500);
    }
    const creating = req.method === 'POST' && url.searchParams.has('uploads');
    const part = req.method === 'PUT' && uploadId !== null && url.searchParams.has('partNumber');
    if (part) {
      partsInFlight++;
      stats.maxPartsInFlight = Math.max(stats.maxPartsInFlight, partsInFlight);
      res.once('close', () => partsInFlight--);
    }
    const upstream = request({ host: '127.0.0.1', port: inner.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const forward = () => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      };
      const delay = creating ? faults.createDelayMs : part ? faults.partDelayMs : undefined;
      if (delay) setTimeout(forward, delay);
      else forward();
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    s3rverEndpoint: inner.endpoint,
    bucket,
    faults,
    aborted,
    requests,
    stats,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await inner.close();
    },
  };
}

/** The SDK's default credential chain reads these; s3rver accepts its documented pair. */
export function useS3rverCredentials(): void {
  Object.assign(process.env, S3RVER_ENV);
}
