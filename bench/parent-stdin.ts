// Shared by the comparison servers the benchmarks spawn (bare-fanout-server.ts,
// bare-voice-forwarder.ts, socketio-server.ts).

/**
 * Exits with code 0 on SIGTERM and SIGINT and, with --parent-stdin (`parentStdin`), when
 * stdin closes: the server never outlives the benchmark that spawned it.
 */
export function quitWithParent(parentStdin: boolean): void {
  const quit = (): void => process.exit(0);
  process.on('SIGTERM', quit);
  process.on('SIGINT', quit);
  if (parentStdin) {
    process.stdin.on('end', quit);
    process.stdin.on('close', quit);
    process.stdin.on('error', quit);
    process.stdin.resume();
  }
}
