// A 📌 is recorded once per message: Slack redelivers an event when its first answer is late, and
// with two replicas the retry can be handled beside the first delivery. Both then pass the first
// look at the timeline while reading the message; the write itself must still add one entry.
import { describe, expect, it } from 'vitest';
import type { Caller } from '../../src/core/command.js';
import { MemoryStore } from '../../src/core/store.js';
import { Incidents } from '../../src/incidents/incidents.js';
import type { IncidentRooms } from '../../src/incidents/rooms.js';

const ROOM = 'C0ROOM0001';
const caller: Caller = { userId: 'U0OPS0001', channelId: 'C0INCIDENTS', surface: 'slack' };

describe('📌 in an incident channel', () => {
  it('two deliveries of one 📌 handled at once add one timeline entry', async () => {
    let release: () => void = () => undefined;
    const read = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    const rooms: IncidentRooms = {
      create: async () => ({ id: ROOM }),
      invite: async () => undefined,
      onCall: async () => [],
      pin: async () => undefined,
      permalink: async () => undefined,
      messageText: async () => {
        reads++;
        await read;
        return 'cache flushed';
      },
    };
    const poster = { report: async () => '1700000000.000100', updateReport: async () => undefined };
    const incidents = new Incidents(new MemoryStore(), poster, 'C0INCIDENTS', Date.now, rooms);
    await incidents.open(caller, 'Cache', 3);
    const both = Promise.all([incidents.pinned('U0OPS0001', ROOM, '1700000001.000200'), incidents.pinned('U0OPS0001', ROOM, '1700000001.000200')]);
    // Both are reading the message: neither has written yet.
    for (let i = 0; i < 50 && reads < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(reads).toBe(2);
    release();
    expect(await both).toEqual([true, true]);
    const [incident] = await incidents.list();
    expect(incident?.timeline.filter((e) => e.kind === 'pin').map((e) => e.text)).toEqual(['📌 marked “cache flushed”']);
    // A later delivery finds it recorded without reading the message again.
    expect(await incidents.pinned('U0OPS0001', ROOM, '1700000001.000200')).toBe(true);
    expect(reads).toBe(2);
  });
});
