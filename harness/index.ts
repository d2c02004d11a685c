// The harness's public surface: protocol clients for tests, bots and load generators.
export * from './client.js';
export * from './voice-client.js';
export * from './jitter.js';
export * from './percentile.js';
export * from './harness.js';
