import { CHAT_COMMANDS_HELP } from './chat-view.js';

/** Help text of every command, with each flag's default. */
export const MAIN_HELP = `parley: a chat server with voice

Usage: parley <command> [flags]

Commands:
  serve   run a server
  load    load-test a server with simulated clients
  chat    interactive terminal client

Run 'parley <command> --help' for its flags.
`;

const SERVE_HELP = `Usage: parley serve [flags]

Runs a parley server until SIGINT or SIGTERM, then closes gracefully
(every client gets 'DISCONNECT: server shutting down'). Logs go to stderr.

Flags (default in brackets):
  --host ADDR              bind address [127.0.0.1]
  --port N                 TCP port, 0 for any free one [7420]
  --plugins LIST           comma-separated plugins [ping,channels,im,voip: all available]
  --default-channel NAME   channel joined after ACCEPT, 'none' for none [#lobby]
  --ping-interval S        seconds between PINGs, fractions allowed [60]
  --ping-timeout S         seconds without the matching PONG before disconnect [150]
  --talk-timeout S         seconds a talk request waits / a call may carry no voice [30]
  --udp-port N             voice relay UDP port [the TCP port]
  --udp-buffer BYTES       voice relay socket receive and send buffers [4194304]
  --stats-interval S       log voice stats every S seconds, 0 for never [0]
  --max-line BYTES         longest line, terminator included [8192]
  --rate-limit N           commands per second per client, 0 for no limit [50]
  --rate-burst N           commands a client may send in one burst [200]
  --max-per-ip N           connections per IP address, 0 for no limit [64]
  --send-queue BYTES       unsent bytes per client before it is disconnected [1048576]
  --handshake-timeout S    seconds a connection may take to CONNECT [30]
  --hostname NAME          name sent in 'ACCEPT: <hostname>' [the machine's hostname]
  --tls-cert FILE          serve TLS with this certificate (PEM) [off]
  --tls-key FILE           private key (PEM) for --tls-cert [off]
  --log-level LEVEL        debug, info, warn, error or silent [info]
  --redis URL              run as a cluster node over Redis, redis://host:port[/db] [$PARLEY_REDIS_URL, else off]
  --redis-prefix NAME      prefix of every Redis key and channel [parley]
  --redis-lease S          seconds a killed node's users outlive it [15]
  --node-id ID             this node's id, unique in the cluster [random]
  -h, --help               this help
`;

const CHAT_HELP = `Usage: parley chat --nick NICK [flags]

An interactive terminal client: shows channel messages and events, answers
PING by itself, and reads commands from standard input (end of input quits).

Flags (default in brackets):
  --nick NICK        nickname (required)
  --realname TEXT    real name ['']
  --target HOST:PORT server [127.0.0.1:7420]
  --tls              connect with TLS (certificate not verified) [off]
  --token TOKEN      token for the server's authentication hook [none]
  -h, --help         this help

${CHAT_COMMANDS_HELP}
`;

const LOAD_HELP = `Usage: parley load [--embedded | --target HOST:PORT] [flags]

Load-tests a server with lean simulated clients (one process drives thousands),
prints progress on stderr (one line per second; redrawn in place on a terminal)
and a summary table on stdout. ^C stops measuring and reports; ^C again quits.

Target (default: --embedded):
  --embedded               start a server in this process, tuned for load: no
                           rate or per-IP limit, 64 MiB send queue, no default
                           channel [on unless --target]
  --embedded-thread T      worker: the server runs in a worker thread (its own
                           core; CPU is its thread's) or main: shares the load
                           clients' thread [worker]
  --plugins LIST           plugins of the embedded server [ping,channels,im,voip]
  --target HOST:PORT       a running server instead; limits it enforces show up
                           as errors, with the server flag to raise [off]
  --udp-port N             the target's voice relay UDP port [the TCP port]
  --server-pid PID         report that process's CPU seconds and peak RSS [off]

Load:
  --scenario NAME          chat: everyone in one channel, --senders send to it;
                           dm: pairs message each other; voice: 1:1 calls, both
                           sides send 20 ms frames over UDP; group-voice: groups
                           of --group-size in a channel's group voice; mixed:
                           chat, dm and voice clients by --mix; churn: --clients
                           loops of connect, JOIN, LEAVE, DISCONNECT [chat]
  --clients N              simulated clients (churn: concurrent loops) [100]
  --senders N              clients that send text [chat: 10, dm: all]
  --rate N                 messages/s over all senders (churn: cycles/s);
                           0 = open loop, bounded by --window [100]
  --duration S             measured seconds [10]
  --warmup S               seconds of load before measuring, not counted [2]
  --ramp N                 clients connected per second; they join their
                           channels once all are connected [500]
  --payload-bytes N        bytes of each message's text and voice frame [100]
  --mix LIST               mixed's weights [chat=70,dm=20,voice=10]
  --group-size N           clients per group in group-voice [4]
  --window N               messages a sender may have in flight [100, but at
                           most ~20,000 deliveries per sender, at least 2]
  --voice-wav FILE         16-bit PCM WAV (mono or stereo, any rate: resampled
                           to 48 kHz) encoded once as 20 ms Opus frames that
                           talkers replay; receivers decode them [off: filler]
  --setup-timeout S        seconds to connect and set up each client [30]
  --drain S                seconds to wait for deliveries after the end [5]

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

const HELP: Record<string, string> = { serve: SERVE_HELP, chat: CHAT_HELP, load: LOAD_HELP };

export function helpFor(cmd: string): string {
  return HELP[cmd] ?? MAIN_HELP;
}
