// `parley load` as a child process: exit codes, threshold messages, the --json file.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LOAD_OPTIONS } from '../../cli/load.js';

const MAIN = path.join(__dirname, '..', '..', 'cli', 'main.js');

function parley(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-load-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const QUICK = ['--embedded', '--clients', '6', '--senders', '2', '--rate', '200', '--duration', '0.5', '--warmup', '0.2'];

/** The top-level keys harness/README.md documents. */
const KEYS = [
  'scenario',
  'clients',
  'durationS',
  'sent',
  'expected',
  'received',
  'lost',
  'duplicates',
  'outOfOrder',
  'deliveriesPerSec',
  'latencyMs',
  'errors',
];

test('load - a failing --max-p99 exits 1, names the threshold, and --json FILE still holds the result', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'result.json');
  const r = await parley(['load', ...QUICK, '--scenario', 'chat', '--max-p99', '0.001ms', '--max-errors', '0', '--json', file]);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /threshold failed: p99 latency [\d.]+ ms > --max-p99 0\.001 ms/);
  t.notRegex(r.stderr, /--max-errors/, 'the errors threshold passed');
  t.regex(r.stdout, /│ Latency \(ms\) │/);
  t.regex(r.stdout, /Deliveries: [\d,]+ of [\d,]+ expected, lost 0 /);
  const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  for (const k of KEYS) t.true(k in json, `--json has ${k}`);
  t.deepEqual(Object.keys(json.latencyMs as object).sort(), ['count', 'max', 'mean', 'p50', 'p90', 'p97_5', 'p99', 'p999'].sort());
  t.is(json.scenario, 'chat');
  t.is(json.received, json.expected);
  t.deepEqual((json.server as { source: string }).source, 'worker-thread');
});

test('load - passing thresholds exit 0; --json - prints only the result; voice frames from a WAV decode', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'tone.wav');
  await writeFile(file, sineWav(0.3));
  const r = await parley([
    'load',
    ...QUICK,
    '--scenario',
    'voice',
    '--voice-wav',
    file,
    '--json',
    '-',
    '--max-p99',
    '10s',
    '--max-loss',
    '0',
    '--max-errors',
    '0',
  ]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, '', 'no progress with --json -');
  const json = JSON.parse(r.stdout) as { voice: Record<string, unknown>; talkers: number };
  for (const k of ['framesSent', 'framesExpected', 'framesReceived', 'framesLost', 'latencyMs', 'jitterMs']) t.true(k in json.voice, `voice has ${k}`);
  t.is(json.voice.codec, 'opus');
  t.is(json.voice.undecodable, 0);
  t.is(json.voice.framesReceived, json.voice.framesExpected);
  t.is(json.talkers, 6);
});

test('load - usage errors exit 2 with the reason', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--scenario', 'nope'], /--scenario must be one of chat, dm, voice, group-voice, mixed, churn/],
    [['--target', '127.0.0.1:1', '--embedded'], /exclusive/],
    [['--max-p99', 'fast'], /--max-p99 expects a duration/],
    [['--mix', 'chat=1,video=2'], /unknown part "video"/],
    [['--clients', '1', '--scenario', 'dm'], /needs --clients 2/],
    [['--bogus'], /unknown flag '--bogus'/],
  ];
  const results = await Promise.all(cases.map(([args]) => parley(['load', ...args])));
  results.forEach((r, i) => {
    t.is(r.code, 2, `${cases[i]![0].join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, cases[i]![1]);
  });
});

test('load --help - lists every flag with its default', async (t) => {
  const r = await parley(['load', '--help']);
  t.is(r.code, 0);
  // One entry per flag: its line and the more-indented lines after it.
  const entries = new Map<string, string>();
  let current = '';
  for (const line of r.stdout.split('\n')) {
    const m = /^ {2}(--[a-z0-9-]+)/.exec(line);
    if (m) entries.set((current = m[1]!), line);
    else if (current && /^ {20,}\S/.test(line)) entries.set(current, entries.get(current)! + line);
    else current = '';
  }
  for (const flag of Object.keys(LOAD_OPTIONS).filter((k) => k !== 'help')) {
    const entry = entries.get(`--${flag}`);
    t.truthy(entry, `--${flag} is documented`);
    t.regex(entry ?? '', /\[[^\]]+\]\s*$/, `--${flag} ends with its [default]`);
  }
});

/** Mono 48 kHz 16-bit PCM WAV of a 440 Hz tone. */
function sineWav(seconds: number): Buffer {
  const n = Math.round(48_000 * seconds);
  const data = Buffer.alloc(2 * n);
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48_000)), 2 * i);
  const h = Buffer.alloc(44);
  h.write('RIFFxxxxWAVEfmt ', 0, 'latin1');
  h.writeUInt32LE(36 + data.length, 4);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(48_000, 24);
  h.writeUInt32LE(96_000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}
