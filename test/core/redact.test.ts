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

  // One text a pattern, each holding its own pattern's needle and no other's: text without a
  // needle skips the patterns, so a needle its pattern's matches can lack would leak here.
  const eachPattern: Array<[string, string]> = [
    ['-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE', 'b3BlbnNzaC1rZXktdjE'],
    ['slack xoxp-1234567890-abcdef', '1234567890-abcdef'],
    ['xapp-1-A111-222-abcdef', 'A111-222-abcdef'],
    ['hooks.slack.com/services/T000/B000/XXXXXXXX', 'XXXXXXXX'],
    ['hf_abcdefghijklmnopqrstuvwx', 'abcdefghijklmnopqrstuvwx'],
    ['ghs_abcdefghijklmnopqrstuvwx1234', 'abcdefghijklmnopqrstuvwx1234'],
    ['github_pat_11ABCDEFG0123456789_abcdefgh', '11ABCDEFG0123456789_abcdefgh'],
    ['glpat-abcdefghijklmnopqrst', 'abcdefghijklmnopqrst'],
    ['npm_abcdefghijklmnopqrstuvwxyz0123456789', 'abcdefghijklmnopqrstuvwxyz0123456789'],
    ['pypi-AgEIcHlwaS5vcmcCJGFiY2RlZmdoaWprbG1ub3A', 'AgEIcHlwaS5vcmcCJGFiY2RlZmdoaWprbG1ub3A'],
    ['sk-ant-abcdefghijklmnop1234', 'abcdefghijklmnop1234'],
    ['rk_test_abcdefgh123', 'abcdefgh123'],
    ['AIzaSyA-abcdefghijklmnopqrstuvwxyz12345', 'SyA-abcdefghijklmnopqrstuvwxyz12345'],
    ['SG.abcdefghijklmnop.qrstuvwxyzABCDEFGH', 'qrstuvwxyzABCDEFGH'],
    ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghij', 'eyJzdWIiOiIxIn0'],
    ['ASIAIOSFODNN7EXAMPLE', 'IOSFODNN7EXAMPLE'],
    ['Proxy-Authorization: Digest username=abc, nonce=xyz', 'nonce=xyz'],
    ['with Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA=='],
    ['GET /o?X-Amz-Signature=abcdef123&x=1', 'abcdef123'],
    ['Set-Cookie: sid=abc123; Path=/', 'abc123'],
    ['amqp://guest:guestpass@rabbit:5672', 'guestpass'],
    ['https://abcdefghijklmnopqrstuvwxyz@github.com', 'abcdefghijklmnopqrstuvwxyz'],
    ['curl -u admin:hunter2 example.org', 'hunter2'],
    ['{"name":"DB_PASSWORD","value":"p4ssw0rd"}', 'p4ssw0rd'],
    ['{"body":"{\\"api_key\\":\\"k3y-v4lue\\"}"}', 'k3y-v4lue'],
    ['{"client_secret": "s3cr3t-v4lue"}', 's3cr3t-v4lue'],
    ["{'auth_token': 't0k3n-v4lue'}", 't0k3n-v4lue'],
    ['{"session_id": 12345678}', '12345678'],
    ['deploy --db-password hunter22', 'hunter22'],
    ['ACCESS_KEY => abc987', 'abc987'],
  ];
  it.each(eachPattern)('every pattern still applies: %s', (text, secret) => {
    expect(redactText(text)).not.toContain(secret);
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
