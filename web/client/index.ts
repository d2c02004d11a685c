/**
 * parley in the browser: `ParleyBrowserClient` and the protocol types.
 * An ES module with no dependencies; served by `webHandler()` at `/client/index.js`.
 */
export { ParleyBrowserClient, ClientError, type BrowserClientOptions } from './client.js';
export * from './protocol.js';
export { encodeVoiceFrame, decodeVoiceFrame, type BrowserVoiceFrame } from './voice-frame.js';
