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
  /** chat.postMessage rejects longer top-level text with msg_too_long. */
  messageText: 40_000,
  /** A response_url takes 5 posts within 30 minutes of its command or click. */
  responseUrlUses: 5,
  responseUrlTtlMs: 30 * 60_000,
} as const;
