// The Slack workspace emulator: a real HTTP + WebSocket server that serves the Web API, validates
// Block Kit, and plays the user, so tests run the real Bolt app against it. Test-only code.

import { createServer } from 'node:net';

export { SlackWorkspaceEmulator, SOCKET, type AppEndpoint, type SubmitOutcome } from './server.js';
export { validateView, VIEW_LIMITS, type HeldView } from './views.js';
export { validateBlocks, BLOCKS, ELEMENTS, CONFIRM, LIMITS, TEXT_OBJECT, KNOWN_ELEMENTS } from './block-kit.js';
export { postSigned, sign, VERIFICATION_TOKEN } from './user.js';
export { MAX_TEXT } from './web-api.js';
export type {
  ApiCall,
  ButtonClickInput,
  EmulatorOptions,
  HttpResult,
  RecordedEphemeral,
  RecordedMessage,
  RecordedResponse,
  RecordedUpload,
  ReactionInput,
  SignOpts,
  SlashCommandInput,
  SocketAck,
} from './types.js';

/** A port that was free a moment ago on 127.0.0.1 (for servers that can't listen on port 0 themselves). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
