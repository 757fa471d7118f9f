// Slack's documented Block Kit limits that the renderer must respect.
// https://api.slack.com/reference/block-kit/blocks
export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  buttonText: 75,
  buttonValue: 2000,
  /**
   * A message's blocks together, as JSON: Slack refuses more with msg_blocks_too_long. The limit
   * is undocumented (about 12,000 characters of text, less in many small blocks: bolt-js#2509,
   * #2867), so the bot keeps well under it.
   */
  blocksJsonPerMessage: 10_000,
  /** chat.postMessage rejects longer top-level text with msg_too_long. */
  messageText: 40_000,
  /** A response_url takes 5 posts within 30 minutes of its command or click. */
  responseUrlUses: 5,
  responseUrlTtlMs: 30 * 60_000,
} as const;
