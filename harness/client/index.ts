// parley/client: protocol clients for tests, bots and apps (placeholder until the harness split lands).
export * from '../client.js';
export * from '../voice-client.js';
export * from '../jitter.js';
