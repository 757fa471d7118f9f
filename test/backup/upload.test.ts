// The multipart upload's memory is bounded by its parts in flight: config.backup.partsInFlight
// is what S3 sees at once, and the object arrives whole.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupBucket } from '../../src/backup/s3.js';
import { testConfig } from '../fixtures/world.js';
import { startS3, useS3rverCredentials, type TestS3 } from '../tools/s3.js';

let s3: TestS3;
beforeAll(async () => {
  useS3rverCredentials();
  s3 = await startS3();
  // Parts are answered late, so the parts the bot sends at once are open at once.
  s3.faults.partDelayMs = 150;
});
afterAll(async () => s3?.stop());

function bucketWith(partsInFlight: number): BackupBucket {
  const c = testConfig();
  return new BackupBucket({ ...c.backup, endpoint: s3.endpoint, forcePathStyle: true, bucket: s3.bucket, partSizeMiB: 5, partsInFlight });
}

/** 26 MiB that won't compress: 6 parts of 5 MiB. */
const body = randomBytes(26 << 20);
const chunks = () => Readable.from((function* () {
  for (let i = 0; i < body.length; i += 64 * 1024) yield body.subarray(i, i + 64 * 1024);
})());

describe('parts in flight', () => {
  it.each([1, 3])('partsInFlight %i: S3 sees at most that many parts at once, and the whole object', async (partsInFlight) => {
    s3.stats.maxPartsInFlight = 0;
    const bucket = bucketWith(partsInFlight);
    const key = `postgres/.incoming/parts-${partsInFlight}`;
    await bucket.upload(key, chunks());
    expect(s3.stats.maxPartsInFlight).toBe(partsInFlight);
    expect((await bucket.head(key)).size).toBe(body.length);
    await bucket.delete(key);
  });

  it('defaults to 2', () => {
    expect(testConfig().backup.partsInFlight).toBe(2);
  });
});
