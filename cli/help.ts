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

Commands:
  <text>                  say it in the current channel (the last one joined)
  /join #channel          join (and make it the current channel)
  /leave [#channel]       leave (default: the current channel)
  /msg <nick|#chan> text  send a message
  /talk <nick>            request a voice call
  /accept [nick]          accept a call request (default: the latest)
  /deny [nick]            deny a call request
  /end [nick|#chan]       hang up a call, or leave a channel's voice
  /voice [#channel]       join the channel's group voice
  /quit                   disconnect and exit
  /help                   the command list
`;

const HELP: Record<string, string> = { serve: SERVE_HELP, chat: CHAT_HELP };

export function helpFor(cmd: string): string {
  return HELP[cmd] ?? MAIN_HELP;
}
