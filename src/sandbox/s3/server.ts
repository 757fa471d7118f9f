// s3rver (a real S3 REST implementation in Node) on loopback, with one bucket: the sandbox's S3,
// and the server behind the tests' fault-injecting peer (test/tools/s3.ts).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** s3rver's documented key pair: the SDK's default chain reads it from the environment. */
export const S3RVER_ENV = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'eu-west-1' } as const;

export interface S3rverServer {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/** `keepIn`: keep the objects in that directory across runs (else a temp dir, removed on close). */
export async function startS3rver(bucket: string, keepIn?: string): Promise<S3rverServer> {
  // s3rver is a development dependency: the sandbox never ships in the image.
  const { default: S3rver } = await import('s3rver');
  if (keepIn) mkdirSync(keepIn, { recursive: true });
  const dir = keepIn ?? mkdtempSync(join(tmpdir(), 'vlinders-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', directory: dir, silent: true, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    async close() {
      await server.close();
      if (!keepIn) rmSync(dir, { recursive: true, force: true });
    },
  };
}
