/** CLI conventions, on the built CLI as a child process: usage errors, --version, --help, durations. */
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_LIMITS } from '../core/index.js';
import { DEFAULT_CHANNELS_OPTIONS } from '../plugins/channels/options.js';
import { DEFAULT_PING_OPTIONS } from '../plugins/ping/options.js';
import { DEFAULT_VOIP_OPTIONS } from '../plugins/voip/options.js';
import { ParleyClient } from '../harness/client/index.js';
import { duration, formatMs, hostPort } from './args.js';
import { SERVE_OPTIONS, serveConfigFrom } from './serve.js';

const MAIN = join(__dirname, 'main.js');

/** `fn` over `items`, a few at a time: the machine may be busy, and each child loads the CLI. */
async function few<T, R>(items: readonly T[], fn: (item: T) => Promise<R>, width = 3): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return out;
}

function parley(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

test('every usage error exits 2 with "parley: <command>: <message>" and a hint', async (t) => {
  const cases: [string[], string, RegExp][] = [
    [['serve', '--port', '99999'], 'serve', /--port: port 99999 is out of range \(0-65535\)/],
    [['serve', '--port', 'abc'], 'serve', /--port expects a port number, got 'abc'/],
    [['serve', '--bogus'], 'serve', /unknown flag '--bogus'/],
    [['serve', '--ping-interval', 'soon'], 'serve', /--ping-interval expects a duration such as 500ms, 10s/],
    [['serve', '--ping-interval', '0'], 'serve', /--ping-interval must be above 0/],
    [['serve', '--max-connections', '-1'], 'serve', /--max-connections must be at least 0, got -1/],
    [['serve', '--port'], 'serve', /--port needs a value/],
    [['serve', 'extra'], 'serve', /unexpected argument 'extra'/],
    [['load', '--target', 'nohost'], 'load', /--target expects HOST:PORT, got 'nohost' \(no port\)/],
    [['load', '--target', 'host:0'], 'load', /--target: port 0 is out of range \(1-65535\)/],
    [['load', '--clients', '-5'], 'load', /--clients must be at least 1, got -5/],
    [['load', '--duration', '10 parsecs'], 'load', /--duration expects a duration/],
    [['chat'], 'chat', /--nick is required/],
    [['chat', '--nick', 'a', '--target', 'nohost'], 'chat', /--target expects HOST:PORT/],
    [['chat', '--nick', 'a', '--insecure'], 'chat', /--insecure goes with --tls/],
  ];
  const results = await few(cases, ([args]) => parley(args));
  results.forEach((r, i) => {
    const [args, cmd, message] = cases[i]!;
    const what = args.join(' ');
    t.is(r.code, 2, `${what}: ${r.stderr}`);
    t.true(r.stderr.startsWith(`parley: ${cmd}: `), `${what}: ${r.stderr}`);
    t.regex(r.stderr, message, what);
    t.regex(r.stderr, new RegExp(`\\nTry 'parley ${cmd} --help'\\.\\n$`), what);
    t.notRegex(r.stderr, /\n\s+at /, `${what}: no stack trace`);
  });
});

test('an unknown command and a bare `parley` exit 2', async (t) => {
  const unknown = await parley(['frobnicate']);
  t.is(unknown.code, 2);
  t.is(unknown.stderr, "parley: unknown command 'frobnicate'\nTry 'parley --help'.\n");
  const bare = await parley([]);
  t.is(bare.code, 2);
  t.regex(bare.stderr, /Usage: parley <command>/);
});

test('--version and -v print the package version; -h and --help work on every command', async (t) => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-v']) {
    const r = await parley([flag]);
    t.is(r.code, 0);
    t.is(r.stdout, `parley ${pkg.version}\n`);
  }
  for (const args of [
    ['-h'],
    ['--help'],
    ...['serve', 'load', 'chat'].flatMap((c) => [
      [c, '-h'],
      [c, '--help'],
    ]),
  ]) {
    const r = await parley(args);
    t.is(r.code, 0, args.join(' '));
    t.regex(r.stdout, /^(Usage|parley: a chat server)/, args.join(' '));
  }
});

test('serve --help shows every flag with the default of the defaults objects, with its unit', async (t) => {
  const r = await parley(['serve', '--help']);
  t.is(r.code, 0);
  const line = (flag: string): string => r.stdout.split('\n').find((l) => l.startsWith(`  --${flag} `)) ?? '';
  for (const flag of Object.keys(SERVE_OPTIONS).filter((f) => f !== 'help')) t.regex(line(flag), /\[[^\]]+\]$/, `--${flag} shows its [default]`);
  t.true(line('ping-interval').endsWith(`[${DEFAULT_PING_OPTIONS.intervalMs / 1000}s]`));
  t.true(line('ping-timeout').endsWith(`[${DEFAULT_PING_OPTIONS.timeoutMs / 1000}s]`));
  t.true(line('handshake-timeout').endsWith(`[${DEFAULT_LIMITS.handshakeTimeoutMs / 1000}s]`));
  t.true(line('max-line').endsWith(`[${DEFAULT_LIMITS.maxLineBytes} bytes]`));
  t.true(line('rate-limit').endsWith(`[${DEFAULT_LIMITS.rateLimit} commands/s]`));
  t.true(line('max-connections').endsWith(`[${DEFAULT_LIMITS.maxConnections} connections]`));
  t.true(line('connect-rate').endsWith(`[${DEFAULT_LIMITS.connectRatePerIp} connections/s]`));
  t.true(line('connect-burst').endsWith(`[${DEFAULT_LIMITS.connectBurstPerIp} connections]`));
  t.true(line('send-queue').endsWith(`[${DEFAULT_LIMITS.sendQueueBytes / 1024 / 1024} MiB]`));
  t.true(line('max-channels').endsWith(`[${DEFAULT_CHANNELS_OPTIONS.maxChannels} channels]`));
  t.true(line('voice-max-frame').endsWith(`[${DEFAULT_VOIP_OPTIONS.maxFrameBytes} bytes]`));
  t.true(line('voice-rate').endsWith(`[${DEFAULT_VOIP_OPTIONS.frameRate} frames/s]`));
  t.true(line('voice-burst').endsWith(`[${DEFAULT_VOIP_OPTIONS.frameBurst} frames]`));
});

test('durations take ms, s, m and h; a bare number is seconds (or ms where a flag says so)', (t) => {
  t.is(duration('500ms', 'x'), 500);
  t.is(duration('10s', 'x'), 10_000);
  t.is(duration('2m', 'x'), 120_000);
  t.is(duration('1h', 'x'), 3_600_000);
  t.is(duration('1.5', 'x'), 1500);
  t.is(duration('250us', 'x'), 0.25);
  t.is(duration('7', 'x', { bare: 'ms' }), 7);
  t.is(duration(undefined, 'x'), undefined);
  t.throws(() => duration('-1s', 'x'), { message: /--x expects a duration/ });
  t.throws(() => duration('0', 'x', { positive: true }), { message: /--x must be above 0/ });
  t.is(formatMs(150_000), '150s');
  t.is(formatMs(500), '500ms');
  t.deepEqual(hostPort('example.org:7000', 't'), { host: 'example.org', port: 7000 });
  t.deepEqual(hostPort('[::1]:7000', 't'), { host: '::1', port: 7000 });
  t.deepEqual(hostPort('7000', 't'), { host: '127.0.0.1', port: 7000 });
});

test('serve flags become createServer options; flags left out leave the library defaults', (t) => {
  const none = serveConfigFrom([]);
  t.deepEqual(none.limits, {});
  t.deepEqual(none.plugins, { ping: {}, channels: {}, voip: {} });
  const c = serveConfigFrom([
    '--ping-interval',
    '500ms',
    '--ping-timeout',
    '2m',
    '--handshake-timeout',
    '1.5',
    '--talk-timeout',
    '1h',
    '--max-connections',
    '0',
    '--connect-rate',
    '2.5',
    '--connect-burst',
    '3',
    '--max-channels',
    '7',
    '--voice-max-frame',
    '900',
    '--voice-rate',
    '60',
    '--voice-burst',
    '5',
    '--voice-flood-sockets',
    '0',
    '--default-channel',
    'none',
  ]);
  t.deepEqual(c.plugins.ping, { intervalMs: 500, timeoutMs: 120_000 });
  t.deepEqual(c.plugins.channels, { defaultChannel: null, maxChannels: 7 });
  t.deepEqual(c.plugins.voip, { talkTimeoutMs: 3_600_000, maxFrameBytes: 900, frameRate: 60, frameBurst: 5, peerSockets: 0 });
  t.deepEqual(c.limits, { maxConnections: 0, connectRatePerIp: 2.5, connectBurstPerIp: 3, handshakeTimeoutMs: 1500 });
});

test('parley serve runs with duration flags with units and pings at the interval given', async (t) => {
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--ping-interval', '200ms', '--handshake-timeout', '10s', '--log-level', 'silent'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => child.kill());
  let out = '';
  const listening = new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/listening on .*:\d+ /.test(out)) resolve();
    });
    child.on('exit', () => resolve());
  });
  await listening;
  const port = Number(/listening on .*:(\d+) /.exec(out)?.[1]);
  t.true(port > 0, out);
  const client = await ParleyClient.connect({ port, nick: 'pinged', timeoutMs: 30_000 });
  t.teardown(() => client.destroy());
  const ping = await client.waitFor('PING', undefined, 30_000);
  t.is(ping.type, 'PING');
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  t.is(code, 0);
});

test('--proxy-protocol with --trusted-proxy becomes proxyProtocol; either alone or a bad address is a usage error', (t) => {
  t.is(serveConfigFrom([]).proxyProtocol, undefined);
  t.deepEqual(serveConfigFrom(['--proxy-protocol', '--trusted-proxy', '10.0.0.0/8, 127.0.0.1']).proxyProtocol, { trusted: ['10.0.0.0/8', '127.0.0.1'] });
  t.throws(() => serveConfigFrom(['--proxy-protocol']), { message: /needs --trusted-proxy/ });
  t.throws(() => serveConfigFrom(['--trusted-proxy', '127.0.0.1']), { message: /goes with --proxy-protocol/ });
  t.throws(() => serveConfigFrom(['--proxy-protocol', '--trusted-proxy', 'lb.example']), { message: /not an address or CIDR/ });
});
