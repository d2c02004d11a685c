// Channels end to end: JOIN, LEAVE, membership notices, names, cleanup, long lists.
import test, { type ExecutionContext } from 'ava';
import { ParleyError } from '../../core/index.js';
import { channelsPlugin } from './index.js';
import { connect, connectInLobby, RawSocket, topologies, textPlugins, until } from '../../test/helpers.js';
import type { ParleyClient } from '../../harness/client/index.js';

/** Sends a DM to itself and waits for it: every reply to earlier commands has arrived. */
async function barrier(c: ParleyClient): Promise<void> {
  const marker = `barrier-${Math.random()}`;
  c.say(c.nick, marker);
  await c.waitFor('MSG', (m) => m.text === marker);
}

for (const topo of topologies()) {
  test(topo.title('JOIN - JOINED and USERLIST to the joiner, USERJOIN to the members'), async (t) => {
    const { port } = await topo.start(t);
    const alice = await connectInLobby(t, port, 'alice');
    const bob = await connectInLobby(t, port, 'bob');
    t.deepEqual(await alice.join('#dev'), ['alice']);
    t.deepEqual(await bob.join('#dev'), ['alice', 'bob']);
    t.deepEqual(await alice.waitFor('USERJOIN', (m) => m.channel === '#dev'), { type: 'USERJOIN', channel: '#dev', nick: 'bob' });
    // The IRC forms `JOIN #x` and `JOIN :#x` work too.
    alice.sendRaw('JOIN #irc\n');
    t.is((await alice.waitFor('JOINED', (m) => m.channel === '#irc')).channel, '#irc');
    bob.sendRaw('join :#irc\n');
    t.deepEqual((await bob.waitFor('USERLIST', (m) => m.channel === '#irc')).nicks, ['alice', 'bob']);
  });

  test(topo.title('JOIN - second join of same channel is a no-op for the others'), async (t) => {
    const { port } = await topo.start(t);
    const alice = await connectInLobby(t, port, 'alice');
    const bob = await connectInLobby(t, port, 'bob');
    await alice.join('#dev');
    await bob.join('#dev');
    await alice.waitFor('USERJOIN', (m) => m.channel === '#dev');
    // The joiner gets JOINED and USERLIST again; nobody else hears of it.
    t.deepEqual(await bob.join('#dev'), ['alice', 'bob']);
    t.deepEqual(await bob.join('#DEV'), ['alice', 'bob']);
    await barrier(alice);
    t.deepEqual(
      alice.inbox().filter((m) => (m.type === 'USERJOIN' || m.type === 'USERLEAVE') && m.channel === '#dev'),
      [],
    );
  });

  test(topo.title("JOIN - channel names are case-insensitive and answered in the creator's spelling"), async (t) => {
    const { port } = await topo.start(t);
    const alice = await connectInLobby(t, port, 'alice');
    const bob = await connectInLobby(t, port, 'bob');
    await alice.join('#SuperAwesome');
    bob.send({ verb: 'JOIN', channel: '#superawesome' });
    t.deepEqual(await bob.waitFor('JOINED', (m) => m.channel !== '#lobby'), { type: 'JOINED', channel: '#SuperAwesome' });
    t.deepEqual(await bob.waitFor('USERLIST', (m) => m.channel !== '#lobby'), { type: 'USERLIST', channel: '#SuperAwesome', nicks: ['alice', 'bob'] });
    t.is((await alice.waitFor('USERJOIN', (m) => m.nick === 'bob' && m.channel !== '#lobby')).channel, '#SuperAwesome');
    bob.say('#SUPERAWESOME', 'hi');
    t.deepEqual(await alice.waitFor('MSG'), { type: 'MSG', sender: 'bob', recipient: '#SuperAwesome', text: 'hi' });
    await bob.leave('#superAWESOME');
    t.deepEqual(await alice.waitFor('USERLEAVE', (m) => m.channel !== '#lobby'), { type: 'USERLEAVE', channel: '#SuperAwesome', nick: 'bob' });
  });

  test(topo.title('LEAVE - LEFT to the leaver, USERLEAVE to the rest, and messages stop'), async (t) => {
    const { port } = await topo.start(t);
    const alice = await connectInLobby(t, port, 'alice');
    const bob = await connectInLobby(t, port, 'bob');
    const carol = await connectInLobby(t, port, 'carol');
    for (const c of [alice, bob, carol]) await c.join('#dev');
    const raw = await RawSocket.open(t, port);
    raw.write('CONNECT: "dave" "" 1.0.0\nJOIN: #dev\nLEAVE: #dev\n');
    t.is(await raw.waitLine((l) => l.startsWith('LEFT')), 'LEFT: #dev');
    await bob.leave('#dev');
    t.deepEqual(await alice.waitFor('USERLEAVE', (m) => m.nick === 'bob'), { type: 'USERLEAVE', channel: '#dev', nick: 'bob' });
    t.deepEqual(await carol.waitFor('USERLEAVE', (m) => m.nick === 'bob'), { type: 'USERLEAVE', channel: '#dev', nick: 'bob' });
    alice.say('#dev', 'bob is gone');
    t.is((await carol.waitFor('MSG')).text, 'bob is gone');
    await barrier(bob);
    t.false(bob.inbox().some((m) => m.type === 'MSG'));
    // Leaving the default channel is allowed too.
    await bob.leave('#lobby');
    t.is((await alice.waitFor('USERLEAVE', (m) => m.channel === '#lobby' && m.nick === 'bob')).nick, 'bob');
  });

  test(topo.title('LEAVE - an emptied channel is dropped: joining it again shows only you, in your spelling'), async (t) => {
    const { port } = await topo.start(t);
    const alice = await connectInLobby(t, port, 'alice');
    const bob = await connectInLobby(t, port, 'bob');
    await alice.join('#Temp');
    await bob.join('#temp');
    await alice.leave('#temp');
    await bob.leave('#TEMP');
    bob.send({ verb: 'JOIN', channel: '#TEMP' });
    t.deepEqual(await bob.waitFor('JOINED', (m) => m.channel !== '#lobby'), { type: 'JOINED', channel: '#TEMP' });
    t.deepEqual((await bob.waitFor('USERLIST', (m) => m.channel === '#TEMP')).nicks, ['bob']);
  });

  test(topo.title('DISCONNECT - the others see USERLEAVE in every shared channel, once'), async (t) => {
    const { port } = await topo.start(t);
    const alice = await connectInLobby(t, port, 'alice');
    const bob = await connectInLobby(t, port, 'bob');
    const carol = await connectInLobby(t, port, 'carol');
    for (const ch of ['#a', '#b']) {
      await alice.join(ch);
      await bob.join(ch);
    }
    await carol.join('#b');
    await alice.join('#alone');
    bob.destroy(); // an abrupt close, no DISCONNECT
    const aliceSaw = new Set<string>();
    for (let i = 0; i < 3; i++) aliceSaw.add((await alice.waitFor('USERLEAVE', (m) => m.nick === 'bob')).channel);
    t.deepEqual([...aliceSaw].sort(), ['#a', '#b', '#lobby']);
    t.deepEqual(
      [(await carol.waitFor('USERLEAVE', (m) => m.nick === 'bob')).channel, (await carol.waitFor('USERLEAVE', (m) => m.nick === 'bob')).channel].sort(),
      ['#b', '#lobby'],
    );
    await barrier(alice);
    await barrier(carol);
    t.false([...alice.inbox(), ...carol.inbox()].some((m) => m.type === 'USERLEAVE'));
    // Bob's nick is free again, and the channels he was in did not keep him.
    const bob2 = await connectInLobby(t, port, 'bob');
    t.deepEqual(await bob2.join('#a'), ['alice', 'bob']);
  });

  test(topo.title('USERLIST - a list longer than the line limit comes as several lines the client joins'), async (t) => {
    const maxLineBytes = 128;
    const { port } = await topo.start(t, { limits: { maxLineBytes } });
    const nicks = Array.from({ length: 30 }, (_, i) => `member_${String(i).padStart(3, '0')}`);
    const clients: ParleyClient[] = [];
    for (const nick of nicks) {
      const c = await connect(t, port, nick);
      await c.join('#crowd');
      clients.push(c);
    }
    const raw = await RawSocket.open(t, port);
    raw.write('CONNECT: "watcher" "" 1.0.0\nJOIN: #crowd\n');
    const members = (): string[] => raw.lines.filter((l) => l.startsWith('USERLIST #crowd')).flatMap((l) => l.slice('USERLIST #crowd: '.length).split(', '));
    t.true(await until(() => members().length === nicks.length + 1), `got ${members().length} members`);
    const listLines = raw.lines.filter((l) => l.startsWith('USERLIST #crowd'));
    t.true(listLines.length > 1, `${listLines.length} lines`);
    for (const l of listLines) t.true(Buffer.byteLength(l) + 1 <= maxLineBytes, l);
    t.deepEqual(members(), [...nicks, 'watcher']);
    // The harness joins the lines: a rejoin returns every member.
    t.deepEqual(await clients[0]!.join('#crowd'), [...nicks, 'watcher']);
  });

  test(topo.title('JOIN - a configured default channel, or none'), async (t) => {
    const home = await topo.start(t, { plugins: textPlugins({ channels: { defaultChannel: '#home' } }) });
    const a = await connect(t, home.port, 'alice');
    t.deepEqual(await a.waitFor('JOINED'), { type: 'JOINED', channel: '#home' });

    const none = await topo.start(t, { plugins: textPlugins({ channels: { defaultChannel: null } }) });
    const b = await connect(t, none.port, 'bob');
    await barrier(b);
    t.deepEqual(b.inbox(), []);
    t.deepEqual(await b.join('#first'), ['bob']);
  });
}

test('channels options - unknown keys and bad values are refused at creation with PARLEY_ERR_INVALID_OPTION', (t) => {
  const unknown = t.throws(() => channelsPlugin({ nope: 1 } as never), { instanceOf: ParleyError });
  t.is(unknown?.code, 'PARLEY_ERR_INVALID_OPTION');
  t.regex(unknown!.message, /channels\.nope: unknown option/);
  channelsBadValues(t);
});

function channelsBadValues(t: ExecutionContext): void {
  for (const bad of [{ defaultChannel: 'lobby' }, { maxChannelsPerUser: 0 }, { maxChannelsPerUser: 1.5 }]) {
    t.is(t.throws(() => channelsPlugin(bad), { instanceOf: ParleyError })?.code, 'PARLEY_ERR_INVALID_OPTION');
  }
  t.notThrows(() => channelsPlugin({ defaultChannel: null }));
}
