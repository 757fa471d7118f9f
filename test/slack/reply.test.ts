// The response_url reply keeps Slack's limits itself: 5 posts, within 30 minutes of the command.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { RespondArguments, RespondFn } from '@slack/bolt';
import { ResponseUrlReply, packMessages, postToResponseUrl } from '../../src/slack/reply.js';
import { LIMITS } from '../../src/sandbox/slack/index.js';
import type { Block } from '../../src/slack/blocks.js';

/** Bolt's respond() as far as the reply sees it: what was posted, in order. */
function recordingRespond(): RespondFn & { posted: RespondArguments[] } {
  const posted: RespondArguments[] = [];
  const respond: RespondFn = async (message) => {
    posted.push(typeof message === 'string' ? { text: message } : message);
    return undefined as never;
  };
  return Object.assign(respond, { posted });
}
const section = (text: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text } });
const message = (n: number, blocks: number) => ({ text: `m${n}`, blocks: Array.from({ length: blocks }, (_, i) => section(`m${n} b${i}`)) });

describe('ResponseUrlReply', () => {
  it('posts at most 5 times, whatever it is asked', async () => {
    const respond = recordingRespond();
    const reply = new ResponseUrlReply(respond);
    for (let i = 0; i < 7; i++) await reply.ephemeral(`line ${i}`);
    expect(respond.posted.map((p) => p.text)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    expect(reply.left).toBe(0);
    expect(await reply.ephemeral('one more')).toBe(false);
  });

  it('posts nothing once 30 minutes have passed since the command', async () => {
    let now = 1_000_000;
    const respond = recordingRespond();
    const reply = new ResponseUrlReply(respond, () => now);
    expect(await reply.ephemeral('in time')).toBe(true);
    now += 30 * 60_000 + 1;
    expect(await reply.ephemeral('too late')).toBe(false);
    expect(respond.posted.map((p) => p.text)).toEqual(['in time']);
  });
});

describe('packMessages', () => {
  it('merges neighbours while their blocks fit in one message, in order', () => {
    const packed = packMessages([message(1, 20), message(2, 20), message(3, 20)], 5);
    expect(packed.map((m) => m.blocks?.length)).toEqual([40, 20]);
    expect(packed[0]?.text).toBe('m1');
  });

  it('merges neighbours only while their blocks’ size together is what one message takes', () => {
    const big = (n: number) => ({ text: `m${n}`, blocks: [section('x'.repeat(2900)), section('y'.repeat(2900))] });
    const packed = packMessages([big(1), big(2), big(3)], 5);
    expect(packed.map((m) => m.blocks?.length)).toEqual([2, 2, 2]);
    for (const m of packed) expect(JSON.stringify(m.blocks).length).toBeLessThanOrEqual(LIMITS.blocksJsonPerMessage);
  });

  it('cuts what does not fit in the room left, and the last message says so', () => {
    const packed = packMessages([message(1, 50), message(2, 50), message(3, 50)], 2);
    expect(packed).toHaveLength(2);
    expect(packed[1]?.blocks).toHaveLength(50);
    expect(JSON.stringify(packed[1]?.blocks?.at(-1))).toContain('…1 more message did not fit in this reply.');
    expect(packed[1]?.text).toContain('…1 more message did not fit');
  });
});

describe('postToResponseUrl', () => {
  async function peer(status: number) {
    const posts: Array<{ type: string | undefined; body: unknown }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posts.push({ type: req.headers['content-type'], body: JSON.parse(body) });
        res.writeHead(status).end(status === 200 ? 'ok' : 'expired_url');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/actions/T1/1/abc`, posts, close: () => server.close() };
  }

  it('posts the message as JSON, as Slack takes it', async () => {
    const slack = await peer(200);
    try {
      await postToResponseUrl(slack.url)({ response_type: 'ephemeral', text: 'hello', blocks: [section('hi')] });
      expect(slack.posts).toEqual([{ type: 'application/json', body: { response_type: 'ephemeral', text: 'hello', blocks: [section('hi')] } }]);
    } finally {
      slack.close();
    }
  });

  it('throws when Slack refuses the post (an expired or spent URL) or cannot be reached', async () => {
    const slack = await peer(404);
    try {
      await expect(postToResponseUrl(slack.url)({ text: 'late' })).rejects.toThrow(/HTTP 404/);
    } finally {
      slack.close();
    }
    await expect(postToResponseUrl('http://127.0.0.1:9/actions/x')({ text: 'nobody' })).rejects.toThrow();
  });
});
