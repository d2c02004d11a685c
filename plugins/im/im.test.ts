// Instant messages end to end: fan-out, DMs, byte-exact payloads, ordering.
import test, { type ExecutionContext } from 'ava';
import { ParleyError } from '../../core/index.js';
import { imPlugin } from './index.js';
import { connectInLobby, RawSocket, topologies } from '../../test/helpers.js';
import type { ParleyClient } from '../../harness/client/index.js';

async function barrier(c: ParleyClient): Promise<void> {
  const marker = `barrier-${Math.random()}`;
  c.say(c.nick, marker);
  await c.waitFor('MSG', (m) => m.text === marker);
}

for (const topo of topologies()) {
  test(topo.title('MSG - a channel message reaches every other member exactly once and not the sender'), async (t) => {
    const { port } = await topo.start(t);
    const nicks = ['ann', 'ben', 'cat', 'dan', 'eve'];
    const clients: ParleyClient[] = [];
    for (const n of nicks) {
      const c = await connectInLobby(t, port, n);
      await c.join('#room');
      clients.push(c);
    }
    const outsider = await connectInLobby(t, port, 'zed');
    for (const c of clients) c.say('#room', `from ${c.nick}`);
    // Each sender's DM marker to everyone follows its channel message on every socket.
    for (const c of clients) for (const to of nicks) c.say(to, `done ${c.nick}`);
    for (const c of clients) {
      for (const from of nicks) await c.waitFor('MSG', (m) => m.sender === from && m.text === `done ${from}`);
      const got = c.inbox().filter((m) => m.type === 'MSG');
      t.deepEqual(
        got.map((m) => (m.type === 'MSG' ? `${m.sender} ${m.recipient} ${m.text}` : '')).sort(),
        nicks.filter((n) => n !== c.nick).map((n) => `${n} #room from ${n}`),
        c.nick,
      );
    }
    await barrier(outsider);
    t.deepEqual(
      outsider.inbox().filter((m) => m.type === 'MSG'),
      [],
    );
  });

  test(topo.title('MSG - a direct message reaches only its recipient, by nick in any case'), async (t) => {
    const { port } = await topo.start(t);
    const alice = await connectInLobby(t, port, 'alice');
    const bob = await connectInLobby(t, port, 'Bob');
    const carol = await connectInLobby(t, port, 'carol');
    alice.say('BOB', 'psst');
    t.deepEqual(await bob.waitFor('MSG'), { type: 'MSG', sender: 'alice', recipient: 'Bob', text: 'psst' });
    await barrier(carol);
    await barrier(alice);
    t.false([...carol.inbox(), ...alice.inbox()].some((m) => m.type === 'MSG'));
  });

  test(topo.title('MSG - payloads are relayed byte-exact'), async (t) => {
    const { port } = await topo.start(t);
    const alice = await connectInLobby(t, port, 'alice');
    const raw = await RawSocket.open(t, port);
    raw.write('CONNECT: "bob" "" 1.0.0\n');
    await raw.waitLine((l) => l.startsWith('USERLIST'));
    const payloads = [
      'plain',
      '',
      ' ',
      '  two leading spaces',
      'trailing spaces  ',
      'colons: a:b :c ::',
      ': starts with a colon',
      'ünïcödé — 日本語 — 🎉👩‍👩‍👧',
      'tab\tinside',
      'MSG alice: looks like a command',
      '"quotes" and \\backslashes\\',
    ];
    for (const p of payloads) alice.say('bob', p);
    for (const p of payloads) alice.say('alice', p);
    for (const p of payloads) t.is((await alice.waitFor('MSG')).text, p);
    await raw.waitLine((l) => l === 'MSG alice bob: "quotes" and \\backslashes\\');
    t.deepEqual(
      raw.lines.filter((l) => l.startsWith('MSG ')),
      payloads.map((p) => `MSG alice bob: ${p}`),
    );
  });

  test(topo.title('MSG - the IRC form `MSG #c :hi` means `MSG #c: hi`, and `MSG #c:` sends an empty message'), async (t) => {
    const { port } = await topo.start(t);
    const alice = await connectInLobby(t, port, 'alice');
    const bob = await connectInLobby(t, port, 'bob');
    alice.sendRaw('MSG #lobby :hi there\nmsg #lobby:\nMSG   bob   :  two\n');
    t.is((await bob.waitFor('MSG')).text, 'hi there');
    t.is((await bob.waitFor('MSG')).text, '');
    t.deepEqual(await bob.waitFor('MSG'), { type: 'MSG', sender: 'alice', recipient: 'bob', text: ' two' });
  });

  test(topo.title('MSG - per-sender order is kept over 500 messages'), async (t) => {
    const { port } = await topo.start(t, { limits: { rateLimit: 0 } });
    const a = await connectInLobby(t, port, 'a');
    const b = await connectInLobby(t, port, 'b');
    const r = await connectInLobby(t, port, 'r');
    const N = 500;
    const lines = (from: string): string => Array.from({ length: N }, (_, i) => `MSG ${i % 2 ? '#lobby' : 'r'}: ${from} ${i}\n`).join('');
    a.sendRaw(lines('a'));
    b.sendRaw(lines('b'));
    const next = { a: 0, b: 0 };
    let outOfOrder = 0;
    for (let k = 0; k < 2 * N; k++) {
      const m = await r.waitFor('MSG', undefined, 5000);
      const [from, seq] = m.text.split(' ') as ['a' | 'b', string];
      if (Number(seq) !== next[from]) outOfOrder++;
      next[from] = Number(seq) + 1;
    }
    t.is(outOfOrder, 0);
    t.deepEqual(next, { a: N, b: N });
  });

  test(topo.title('MSG - a lone member of a channel gets no echo of its own message'), async (t) => {
    const { server, port } = await topo.start(t);
    const seen: string[] = [];
    server.events$.subscribe((e) => e.type === 'message' && seen.push(`${e.from} ${e.to} ${e.text}`));
    const alice = await connectInLobby(t, port, 'alice');
    await alice.join('#Solo');
    alice.say('#solo', 'anyone?');
    await barrier(alice);
    t.false(alice.inbox().some((m) => m.type === 'MSG'));
    t.is(seen[0], 'alice #Solo anyone?');
  });
}

test('im options - unknown keys and bad values are refused at creation with PARLEY_ERR_INVALID_OPTION', (t) => {
  const unknown = t.throws(() => imPlugin({ nope: 1 } as never), { instanceOf: ParleyError });
  t.is(unknown?.code, 'PARLEY_ERR_INVALID_OPTION');
  t.regex(unknown!.message, /im\.nope: unknown option/);
  imBadValues(t);
});

function imBadValues(t: ExecutionContext): void {
  t.is(t.throws(() => imPlugin(null as never), { instanceOf: ParleyError })?.code, 'PARLEY_ERR_INVALID_OPTION');
}
