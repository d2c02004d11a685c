// test/package.test.ts runs after the main suite (npm test): its npm installs and builds would otherwise
// compete for the CPU with the suite's socket tests. Timeouts are per test in the file.
export default {
  files: ['dist/test/package.test.js'],
  timeout: '300s',
  workerThreads: false,
};
