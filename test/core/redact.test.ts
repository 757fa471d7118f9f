import { describe, expect, it } from 'vitest';
import { redactText, redactValue } from '../../src/core/redact.js';

describe('redaction', () => {
  const secrets: Array<[string, string]> = [
    ['token xoxb-1234567890-abcdefghij in text', 'xoxb-1234567890-abcdefghij'],
    ['app xapp-1-A0123-456-abcdef', 'xapp-1-A0123-456-abcdef'],
    ['postgres://vlinders:s3cr3t-pass@postgres-0:5432/vlinders', 's3cr3t-pass'],
    ['redis://:hunter2@redis:6379', 'hunter2'],
    ['host=pg user=vlinders password=hunter22 dbname=x', 'hunter22'],
    ['PGPASSWORD="quoted secret" pg_dump', 'quoted secret'],
    ['Authorization: Bearer abc.def.ghi1234567', 'abc.def.ghi1234567'],
    ['jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXZhbHVl', 'eyJzdWIiOiIxMjM0In0'],
    ['aws AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'],
    ['stripe_secret_key: sk_live_51abc', 'sk_live_51abc'],
    ['-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----', 'MIIEabc'],
  ];
  it.each(secrets)('%s', (text, secret) => {
    const out = redactText(text);
    expect(out).not.toContain(secret);
    expect(out).toContain('[REDACTED]');
  });

  it('leaves ordinary runbook text alone', () => {
    const text = 'scale-gpu 5 --group gpu-workers; pod vlinders-api-7d9f 3/3 Ready; 0/4 nodes are available';
    expect(redactText(text)).toBe(text);
  });

  it('redacts secret-named keys in objects, deeply', () => {
    const out = redactValue({ user: 'U1', password: 'x', nested: { apiKey: 'y', note: 'url postgres://a:b@c/d' }, list: [{ token: 't' }] });
    expect(out).toEqual({
      user: 'U1',
      password: '[REDACTED]',
      nested: { apiKey: '[REDACTED]', note: 'url postgres://a:[REDACTED]@c/d' },
      list: [{ token: '[REDACTED]' }],
    });
  });
});
