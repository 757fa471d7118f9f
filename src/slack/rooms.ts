// Incident channels through the Web API: conversations.create/invite/history, pins.add and
// chat.getPermalink (scopes channels:manage, channels:history, pins:write).
import type { webApi } from '@slack/bolt';
import type { IncidentRooms } from '../incidents/rooms.js';
import { slackErrorCode } from './reply.js';

type WebClient = webApi.WebClient;

/** The bot scopes incident channels need (manifest.json asks for them; the console's workspace grants them). */
export const INCIDENT_ROOM_SCOPES = ['channels:manage', 'channels:history', 'pins:write', 'reactions:read'] as const;

export class SlackRooms implements IncidentRooms {
  constructor(
    private client: WebClient,
    private groupMembers: (group: string) => Promise<string[]>,
    /** config oncall.group: invited to every incident channel. */
    private onCallGroup: string | undefined,
  ) {}

  async create(name: string): Promise<{ id: string } | 'name_taken'> {
    try {
      const res = await this.client.conversations.create({ name });
      if (!res.channel?.id) throw new Error('Slack answered conversations.create without a channel id');
      return { id: res.channel.id };
    } catch (err) {
      if (slackErrorCode(err) === 'name_taken') return 'name_taken';
      throw err;
    }
  }

  async invite(channel: string, users: readonly string[]): Promise<void> {
    // One at a time: Slack invites nobody when any one of a list fails (already in it, say).
    // A person who can't be invited (user_not_found) doesn't keep the others out; the first failure is thrown after.
    let failure: unknown;
    for (const user of new Set(users)) {
      try {
        await this.client.conversations.invite({ channel, users: user });
      } catch (err) {
        if (slackErrorCode(err) !== 'already_in_channel') failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  }

  async onCall(): Promise<string[]> {
    return this.onCallGroup ? this.groupMembers(this.onCallGroup) : [];
  }

  async pin(channel: string, ts: string): Promise<void> {
    try {
      await this.client.pins.add({ channel, timestamp: ts });
    } catch (err) {
      if (slackErrorCode(err) !== 'already_pinned') throw err;
    }
  }

  async permalink(channel: string, ts: string): Promise<string | undefined> {
    return (await this.client.chat.getPermalink({ channel, message_ts: ts })).permalink;
  }

  async messageText(channel: string, ts: string): Promise<string | undefined> {
    const res = await this.client.conversations.history({ channel, latest: ts, inclusive: true, limit: 1 });
    const message = res.messages?.[0];
    return message?.ts === ts ? message.text : undefined;
  }
}
