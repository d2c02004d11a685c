// `parley/harness`: the load harness as a library (`run`, `Harness`, the report).
export * from './harness.js';
