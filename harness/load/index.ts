// parley/harness: the load harness (placeholder until the harness split lands).
export * from '../harness.js';
