import test from 'ava';
import type { ServerMessage } from '../../core/index.js';
import type { ParleyClient } from '../../harness/client/index.js';
import type { VoiceFrame } from './voice-frame.js';
import { decodeVoiceFrame, encodeVoiceFrame } from './voice-frame.js';
import { bindAll, call, connect, rawUdp, startServer, until, voice, voipTopologies, type TestServer, type VoipServers } from './voip-fixture.js';

async function inRoom(t: Parameters<typeof connect>[0], s: TestServer | VoipServers, nicks: string[], room = '#room'): Promise<ParleyClient[]> {
  const clients: ParleyClient[] = [];
  for (const n of nicks) {
    const c = await connect(t, s.port, n);
    await c.join(room);
    clients.push(c);
  }
  return clients;
}

const voiceNotices = (c: ParleyClient): ServerMessage[] =>
  c.inbox().filter((m) => m.type === 'TALKJOIN' || m.type === 'TALKLEAVE' || m.type === 'TALKLIST' || m.type === 'TALK');

test('group voice - three talkers, each with a key of its own, each hear the other two, never themselves', async (t) => {
  const s = await startServer(t);
  const clients = await inRoom(t, s, ['ann', 'ben', 'cat']);
  const keys: string[] = [];
  for (const c of clients) keys.push((await c.talkJoin('#room')).key);
  t.is(new Set(keys).size, 3);
  const voices = await Promise.all(clients.map((c, i) => voice(t, s, keys[i]!, c.nick)));
  const heard = voices.map((v) => {
    const got: VoiceFrame[] = [];
    v.frames$.subscribe((f) => got.push(f.frame));
    return got;
  });
  await bindAll(s, voices, 3);
  for (const v of voices) v.send(Buffer.from(`from ${v.nick}`));
  await until(() => heard.every((h) => h.length === 2));
  t.is(s.voip.stats().framesRelayed, 6); // exactly two copies of each frame: nothing went back to its sender
  voices.forEach((v, i) => {
    const senders = heard[i]!.map((f) => f.nick).sort();
    t.deepEqual(
      senders,
      ['ann', 'ben', 'cat'].filter((n) => n !== v.nick),
    );
    for (const f of heard[i]!) t.like(f, { key: '', payload: Buffer.from(`from ${f.nick}`) });
  });
  t.like(s.voip.stats(), { groupSessions: 1, groupTalkers: 3, boundEndpoints: 3 });
});

for (const topo of voipTopologies()) {
  test(topo.title('group voice - JOINED and TALKLIST to the joiner, TALKJOIN to every channel member, TALKLEAVE on END'), async (t) => {
    const s = await topo.start(t);
    const [ann, ben, dan] = await inRoom(t, s, ['ann', 'ben', 'dan']);
    const eve = await connect(t, s.port, 'eve'); // in #lobby only
    const first = await ann!.talkJoin('#ROOM');
    t.deepEqual(first.nicks, ['ann']);
    // The joiner's own TALKJOIN comes after its TALKLIST.
    t.deepEqual(await ann!.waitFor('TALKJOIN'), { type: 'TALKJOIN', channel: '#room', nick: 'ann' });
    t.deepEqual(await dan!.waitFor('TALKJOIN'), { type: 'TALKJOIN', channel: '#room', nick: 'ann' });
    t.deepEqual(await ben!.waitFor('TALKJOIN'), { type: 'TALKJOIN', channel: '#room', nick: 'ann' });
    const second = await ben!.talkJoin('#room');
    t.deepEqual(second.nicks, ['ann', 'ben']);
    t.not(second.key, first.key);
    for (const c of [ann!, ben!, dan!]) await c.waitFor('TALKJOIN', (m) => m.nick === 'ben');

    // A second JOIN answers the joiner again and tells nobody else.
    t.deepEqual(await ann!.talkJoin('#room'), { key: first.key, nicks: ['ann', 'ben'] });
    t.is(s.voip.stats().groupTalkers, 2);

    ann!.talkEnd('#room', 'WrongKey0123456789abcd');
    t.is((await ann!.waitForError()).code, 'NO_SUCH_TALK');
    ben!.talkEnd('#room', first.key); // a talker, with another talker's key
    t.is((await ben!.waitForError()).code, 'NO_SUCH_TALK');
    dan!.talkEnd('#room', first.key); // a member, not a talker
    t.is((await dan!.waitForError()).code, 'NO_SUCH_TALK');
    eve.talkEnd('#room', first.key);
    t.is((await eve.waitForError()).code, 'NO_SUCH_TALK');

    ann!.talkEnd('#room', first.key);
    for (const c of [ann!, ben!, dan!]) t.deepEqual(await c.waitFor('TALKLEAVE'), { type: 'TALKLEAVE', channel: '#room', nick: 'ann' });
    // Nothing else about voice reached anyone: the re-JOIN's notices would have come before the TALKLEAVE.
    for (const c of [ann!, ben!, dan!]) t.deepEqual(voiceNotices(c), [], c.nick);
    t.deepEqual(voiceNotices(eve), []);
    t.like(s.voip.stats(), { groupSessions: 1, groupTalkers: 1 });
  });
}

for (const topo of voipTopologies()) {
  test(topo.title('group voice - JOIN errors: NOT_IN_CHANNEL for non-members and unknown channels, CHANNEL_INVALID for bad names'), async (t) => {
    const s = await topo.start(t);
    await inRoom(t, s, ['ann']);
    const eve = await connect(t, s.port, 'eve');
    await t.throwsAsync(eve.talkJoin('#room'), { code: 'NOT_IN_CHANNEL' });
    await t.throwsAsync(eve.talkJoin('#nowhere'), { code: 'NOT_IN_CHANNEL' });
    await t.throwsAsync(eve.talkJoin('#bad!name'), { code: 'CHANNEL_INVALID' });
    eve.sendRaw('TALK #bad!name abcdefghijklmnop1234: END\n');
    t.is((await eve.waitForError()).code, 'CHANNEL_INVALID');
    t.is(s.voip.stats().groupSessions, 0);
  });
}

test('group voice - leaving the channel or disconnecting leaves its voice and releases the binding', async (t) => {
  const s = await startServer(t);
  const [ann, ben, cat] = await inRoom(t, s, ['ann', 'ben', 'cat']);
  await ann!.talkJoin('#room');
  const { key } = await ben!.talkJoin('#room');
  await cat!.talkJoin('#room');
  const vb = await voice(t, s, key, 'ben');
  await bindAll(s, [vb], 1);
  await ben!.leave('#room');
  for (const c of [ann!, ben!, cat!]) await c.waitFor('TALKLEAVE', (m) => m.nick === 'ben');
  t.like(s.voip.stats(), { groupTalkers: 2, boundEndpoints: 0 });
  vb.send(Buffer.from('still here?'));
  await until(() => s.voip.stats().dropped.unknownKey === 1); // the key went with ben

  cat!.destroy();
  t.deepEqual(await ann!.waitFor('TALKLEAVE', (m) => m.nick === 'cat'), { type: 'TALKLEAVE', channel: '#room', nick: 'cat' });
  t.like(s.voip.stats(), { groupSessions: 1, groupTalkers: 1 });
});

test('group voice - the session and its key end with the last talker; a new JOIN gets a new key', async (t) => {
  const s = await startServer(t);
  const [ann, ben] = await inRoom(t, s, ['ann', 'ben']);
  const { key } = await ann!.talkJoin('#room');
  const { key: benKey } = await ben!.talkJoin('#room');
  ann!.talkEnd('#room', key);
  await ann!.waitFor('TALKLEAVE', (m) => m.nick === 'ann');
  ben!.talkEnd('#room', benKey);
  await ben!.waitFor('TALKLEAVE', (m) => m.nick === 'ben');
  t.like(s.voip.stats(), { groupSessions: 0, groupTalkers: 0 });
  const v = await voice(t, s, key, 'ann');
  v.send(Buffer.from('x'));
  await until(() => s.voip.stats().dropped.unknownKey === 1);
  const again = await ben!.talkJoin('#room');
  t.not(again.key, key);
  t.not(again.key, benKey);
  t.deepEqual(again.nicks, ['ben']);
});

test('group voice and a 1:1 call at once - each talk relays only its own frames, over one UDP socket per talk', async (t) => {
  const s = await startServer(t);
  const [ann, ben, cat] = await inRoom(t, s, ['ann', 'ben', 'cat']);
  const group = (await ann!.talkJoin('#room')).key;
  const catKey = (await cat!.talkJoin('#room')).key;
  const callKeys = await call(ann!, ben!); // group voice does not make ann BUSY
  const dan = await connect(t, s.port, 'dan');
  await call(cat!, dan); // nor cat
  const annCall = await voice(t, s, callKeys.caller, 'ann');
  const annGroup = await voice(t, s, group, 'ann');
  const benCall = await voice(t, s, callKeys.callee, 'ben');
  const catGroup = await voice(t, s, catKey, 'cat');
  const got = new Map<string, VoiceFrame[]>();
  for (const [name, v] of Object.entries({ annCall, annGroup, benCall, catGroup })) {
    const list: VoiceFrame[] = [];
    got.set(name, list);
    v.frames$.subscribe((f) => list.push(f.frame));
  }
  await bindAll(s, [annCall, annGroup, benCall, catGroup], 4);
  annCall.send(Buffer.from('to ben'));
  annGroup.send(Buffer.from('to the room'));
  benCall.send(Buffer.from('to ann'));
  catGroup.send(Buffer.from('to ann in the room'));
  annCall.sendRaw(encodeVoiceFrame({ key: group, nick: 'ann', seq: 0, ts: 0, payload: Buffer.from('wrong socket') }));
  await until(() => s.voip.stats().framesRelayed === 4 && s.voip.stats().droppedTotal === 1);
  // Relayed frames carry an empty key: the socket they arrive on tells the talk.
  const text = (name: string): string[] => got.get(name)!.map((f) => `${f.key}:${f.nick}:${f.payload.toString()}`);
  await until(() => [...got.values()].every((l) => l.length === 1));
  t.deepEqual(text('benCall'), [':ann:to ben']);
  t.deepEqual(text('annCall'), [':ben:to ann']);
  t.deepEqual(text('catGroup'), [':ann:to the room']);
  t.deepEqual(text('annGroup'), [':cat:to ann in the room']);
  t.is(s.voip.stats().dropped.spoofed, 1);
  t.like(s.voip.stats(), { activeTalks: 2, groupSessions: 1, groupTalkers: 2 });
});

test('group voice - a long TALKLIST is split over lines within the line limit and joined by the client', async (t) => {
  const s = await startServer(t, {}, { limits: { maxLineBytes: 80 } });
  const nicks = ['a123456789012345678901234567890', 'b123456789012345678901234567890', 'c123456789012345678901234567890', 'd123456789012345678901234567890'];
  const clients = await inRoom(t, s, nicks);
  for (const c of clients.slice(0, -1)) await c.talkJoin('#room');
  const last = clients[clients.length - 1]!;
  let lines = 0;
  last.messages$.subscribe((m) => {
    if (m.type === 'TALKLIST') lines++;
  });
  const { nicks: listed } = await last.talkJoin('#room');
  t.deepEqual(listed, nicks);
  t.true(lines >= 2, `${lines} TALKLIST lines`);
});

test('group voice - the hijack of issue 8 fails: Mallory on the same IP cannot bind as bob before him, and Alice hears only Bob as bob', async (t) => {
  const s = await startServer(t);
  const [alice, bob, mallory] = await inRoom(t, s, ['alice', 'bob', 'mallory']); // all from 127.0.0.1
  const keysMallorySaw: string[] = [];
  mallory!.messages$.subscribe((m) => {
    if (m.type === 'TALK') keysMallorySaw.push(m.key);
  });
  const aliceKey = (await alice!.talkJoin('#room')).key;
  const malloryKey = (await mallory!.talkJoin('#room')).key;
  const va = await voice(t, s, aliceKey, 'alice');
  const heard: VoiceFrame[] = [];
  va.frames$.subscribe((f) => heard.push(f.frame));
  const mine = await rawUdp(t, s); // mallory's own socket, bound as herself
  mine.send(encodeVoiceFrame({ key: malloryKey, nick: 'mallory', seq: 0, ts: 0, payload: Buffer.alloc(0) }));
  await bindAll(s, [va], 2);
  // Everything Mallory can learn: her own TALK lines, and the frames relayed to her.
  va.send(Buffer.from('alice speaking'));
  const [relayed] = await mine.receivedCount(1);
  t.is(decodeVoiceFrame(relayed!)?.key, '', 'relayed frames carry an empty key');

  // Bob has not joined yet; then he joins, and before he binds, Mallory claims "bob" from another socket.
  const bobKey = (await bob!.talkJoin('#room')).key;
  t.false([aliceKey, malloryKey].includes(bobKey));
  const hijack = await rawUdp(t, s);
  const claims = [malloryKey, aliceKey, bobKey.slice(0, -1) + (bobKey.endsWith('A') ? 'B' : 'A'), ''];
  for (const k of claims) hijack.send(encodeVoiceFrame({ key: k, nick: 'bob', seq: 0, ts: 0, payload: Buffer.from('I am bob') }));
  mine.send(encodeVoiceFrame({ key: malloryKey, nick: 'bob', seq: 1, ts: 0, payload: Buffer.from('I am bob too') }));
  await until(() => s.voip.stats().droppedTotal === claims.length + 1);
  t.like(s.voip.stats().dropped, { notParty: 2, unknownKey: 2, spoofed: 1, addressTaken: 0 });
  t.is(s.voip.stats().boundEndpoints, 2);

  // Bob binds: nothing took his place.
  const vb = await voice(t, s, bobKey, 'bob');
  await bindAll(s, [vb], 3);
  vb.send(Buffer.from('bob speaking'));
  await until(() => heard.some((f) => f.nick === 'bob'));
  for (const k of claims) hijack.send(encodeVoiceFrame({ key: k, nick: 'bob', seq: 5, ts: 0, payload: Buffer.from('I am bob') }));
  vb.send(Buffer.from('bob again'));
  await until(() => heard.filter((f) => f.nick === 'bob').length === 2);
  await until(() => s.voip.stats().droppedTotal === 2 * claims.length + 1);
  t.deepEqual(
    heard.filter((f) => f.nick === 'bob').map((f) => [f.key, f.payload.toString()]),
    [
      ['', 'bob speaking'],
      ['', 'bob again'],
    ],
  );
  t.like(s.voip.stats(), { boundEndpoints: 3 });
  t.deepEqual(keysMallorySaw, [malloryKey], 'every TALK line to Mallory carries her own key');
});
