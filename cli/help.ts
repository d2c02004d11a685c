import { DEFAULT_LOAD_OPTIONS as D } from '../harness/load/defaults.js';
import { CHAT_COMMANDS_HELP } from './chat-view.js';

/** Help text of the commands; `parley serve --help` is generated from its flag table (serve.ts). */
export const MAIN_HELP = `parley: a chat server with voice

Usage: parley <command> [flags]

Commands:
  serve   run a server
  load    load-test a server with simulated clients
  chat    interactive terminal client

Flags:
  -h, --help     this help
  -v, --version  print the version

Run 'parley <command> --help' for its flags. Usage errors exit 2.
`;

export const CHAT_HELP = `Usage: parley chat --nick NICK [flags]

An interactive terminal client: shows channel messages and events, answers
PING by itself, and reads commands from standard input (end of input quits).
On a terminal it has line editing, history and a prompt with the current
channel; control characters in received text are shown as ^[ or \\x9b, never
sent to the terminal. Colours unless NO_COLOR is set or output is not a
terminal. A nickname in use asks for another one (the next input line).

Flags [default]:
  --nick NICK        nickname (required)
  --realname TEXT    real name ['']
  --target HOST:PORT server [127.0.0.1:7420]
  --tls              connect with TLS, verifying the certificate [off]
  --insecure         with --tls: accept any certificate (self-signed) [off]
  --token TOKEN      token for the server's authentication hook [none]
  -h, --help         this help

${CHAT_COMMANDS_HELP}
`;

export const LOAD_HELP = `Usage: parley load [--embedded | --target HOST:PORT] [flags]

Load-tests a server with lean simulated clients (one process drives thousands),
prints progress on stderr (one line per second; redrawn in place on a terminal)
and a summary table on stdout. ^C stops measuring and reports; ^C again quits.
DURATION: 500ms, 10s, 2m, 1h; a bare number is seconds.

Target (default: --embedded):
  --embedded               start a server in this process, tuned for load: no
                           rate or per-IP limit, 64 MiB send queue, no default
                           channel [on unless --target]
  --embedded-thread T      worker: the server runs in a worker thread (its own
                           core; CPU is its thread's) or main: shares the load
                           clients' thread [worker]
  --plugins LIST           plugins of the embedded server [ping,channels,im,voip]
  --target HOST:PORT[,HOST:PORT...]
                           a running server instead, or several nodes of one
                           cluster (clients go to them round robin); limits it
                           enforces show up as errors, with the server flag to
                           raise [off]
  --udp-port N             the target's voice relay UDP port [the TCP port]
  --server-pid PID         report that process's CPU seconds and peak RSS [off]

Load:
  --scenario NAME          chat: everyone in one channel, --senders send to it;
                           dm: pairs message each other; voice: 1:1 calls, both
                           sides send 20 ms frames over UDP; group-voice: groups
                           of --group-size in a channel's group voice; mixed:
                           chat, dm and voice clients by --mix; churn: --clients
                           loops of connect, JOIN, LEAVE, DISCONNECT [${D.scenario}]
  --transport NAME         tcp: the line protocol over TCP; ws: over WebSocket at
                           /parley of the same port (voice stays on UDP) [${D.transport}]
  --clients N              simulated clients (churn: concurrent loops) [${D.clients}]
  --senders N              clients that send text [chat: ${D.senders}, dm: all]
  --rate N                 messages/s over all senders (churn: cycles/s);
                           0 = open loop, bounded by --window [${D.rate}]
  --duration DURATION      measured time [${D.durationS}s]
  --warmup DURATION        load before measuring, not counted [${D.warmupS}s]
  --ramp N                 clients connected per second; they join their
                           channels once all are connected [${D.ramp}]
  --payload-bytes N        bytes of each message's text and voice frame [${D.payloadBytes}]
  --mix LIST               mixed's weights [chat=${D.mix.chat},dm=${D.mix.dm},voice=${D.mix.voice}]
  --group-size N           clients per group in group-voice [${D.groupSize}]
  --window N               messages a sender may have in flight [${D.window}, but at
                           most ~20,000 deliveries per sender, at least 2]
  --voice-wav FILE         16-bit PCM WAV (mono or stereo, any rate: resampled
                           to 48 kHz) encoded once as 20 ms Opus frames that
                           talkers replay; receivers decode them [off: filler]
  --setup-timeout DURATION time to connect and set up each client [${D.setupTimeoutS}s]
  --drain DURATION         time to wait for deliveries after the end [${D.drainS}s]

Output and exit code (0 pass; 1 a threshold failed, or no client got in; 2 usage error):
  --json FILE              also write the result as JSON to FILE; '-' prints it
                           to stdout instead of the table, with no progress [off]
  --max-p99 DURATION       fail if p99 latency (text or voice) exceeds it, e.g.
                           50ms, 0.5s, 250us; a bare number is ms [off]
  --max-loss N|P%          fail if more deliveries plus voice frames were lost
                           than N (a count) or P% of those expected [off]
  --max-errors N           fail if more errors than N [off]
  -h, --help               this help
`;
