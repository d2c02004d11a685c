// ParleyClient against a scripted fake server: the test writes the server's lines.
import test, { type ExecutionContext } from 'ava';
import * as net from 'node:net';
import { ClientError, ParleyClient } from './client.js';
import type { ServerMessage } from '../../core/actions.js';

/** The server end of one connection: lines received from the client, and a way to answer. */
class Peer {
  readonly lines: string[] = [];
  #buf = '';
  #waiting: (() => void)[] = [];
  constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (s: string) => {
      this.#buf += s;
      let i: number;
      while ((i = this.#buf.indexOf('\n')) !== -1) {
        this.lines.push(this.#buf.slice(0, i));
        this.#buf = this.#buf.slice(i + 1);
      }
      for (const w of this.#waiting.splice(0)) w();
    });
    socket.on('error', () => {});
  }
  write(text: string): void {
    this.socket.write(text);
  }
  /** Resolves once `n` lines have arrived (at most 2 s). */
  async received(n: number): Promise<string[]> {
    const deadline = Date.now() + 2000;
    while (this.lines.length < n && Date.now() < deadline) {
      await new Promise<void>((r) => {
        this.#waiting.push(r);
        setTimeout(r, 50);
      });
    }
    return this.lines;
  }
}

/** Polls `cond` every 5 ms for at most 2 s. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
}

async function fake(
  t: ExecutionContext,
  opts: { timeoutMs?: number; autoPong?: boolean; inboxLimit?: number } = {},
): Promise<{ client: ParleyClient; peer: Peer }> {
  const server = net.createServer();
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const client = new ParleyClient({ port, ...opts });
  t.teardown(() => {
    client.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  await client.open();
  const socket = await accepted;
  t.teardown(() => socket.destroy());
  return { client, peer: new Peer(socket) };
}

test('client - hello sends CONNECT and resolves with the hostname from ACCEPT', async (t) => {
  const { client, peer } = await fake(t);
  const hello = client.hello('alice', 'Alice A', '1.0.0', 'tok123');
  t.deepEqual(await peer.received(1), ['CONNECT: "alice" "Alice A" 1.0.0 tok123']);
  peer.write('ACCEPT: chat.example.org\n');
  t.is(await hello, 'chat.example.org');
  t.is(client.nick, 'alice');
});

test('client - hello rejects with the code of an ERROR reply', async (t) => {
  const { client, peer } = await fake(t);
  const hello = client.hello('alice');
  await peer.received(1);
  peer.write('ERROR NICK_IN_USE: nickname is already in use: alice\n');
  const err = await t.throwsAsync(hello, { instanceOf: ClientError });
  t.is(err?.code, 'NICK_IN_USE');
  t.is(client.nick, '');
});

test('client - waitFor takes received messages from the inbox first and consumes them', async (t) => {
  const { client, peer } = await fake(t);
  peer.write('MSG bob alice: one\nMSG bob alice: two\n');
  t.is((await client.waitFor('MSG')).text, 'one');
  t.is((await client.waitFor('MSG')).text, 'two');
  const third = client.waitFor('MSG', (m) => m.text === 'three');
  peer.write('MSG bob alice: skipped\nMSG bob alice: three\n');
  t.is((await third).text, 'three');
  t.deepEqual(client.inbox(), [{ type: 'MSG', sender: 'bob', recipient: 'alice', text: 'skipped' }]);
});

test('client - waitFor rejects with TIMEOUT when nothing matches in time', async (t) => {
  const { client } = await fake(t);
  const err = await t.throwsAsync(client.waitFor('JOINED', undefined, 50), { instanceOf: ClientError });
  t.is(err?.code, 'TIMEOUT');
});

test('client - waitFor rejects with CLOSED and done resolves with the DISCONNECT reason', async (t) => {
  const { client, peer } = await fake(t);
  const waiting = client.waitFor('JOINED');
  peer.socket.end('DISCONNECT: ping timeout\n');
  const err = await t.throwsAsync(waiting, { instanceOf: ClientError });
  t.is(err?.code, 'CLOSED');
  t.is(await client.done, 'ping timeout');
  t.true(client.closed);
  t.is((await t.throwsAsync(client.waitFor('MSG'), { instanceOf: ClientError }))?.code, 'CLOSED');
  t.throws(() => client.say('#x', 'late'), { instanceOf: ClientError });
});

test('client - a PING is answered with the same value unless autoPong is off', async (t) => {
  const on = await fake(t);
  on.peer.write('PING: 12345\n');
  t.deepEqual(await on.peer.received(1), ['PONG: 12345']);
  t.is((await on.client.waitFor('PING')).value, '12345');

  const off = await fake(t, { autoPong: false });
  off.peer.write('PING: 777\n');
  await off.client.waitFor('PING');
  off.client.say('x', 'marker');
  t.deepEqual(await off.peer.received(1), ['MSG x: marker']);
});

test('client - a USERLIST split over several lines is joined, and messages$ sees each line', async (t) => {
  const { client, peer } = await fake(t);
  const seen: ServerMessage[] = [];
  client.messages$.subscribe((m) => seen.push(m));
  const join = client.join('#Big');
  t.deepEqual(await peer.received(1), ['JOIN: #Big']);
  peer.write('JOINED: #big\nUSERLIST #big: a, b\nUSERLIST #big: c\n');
  t.deepEqual(await join, ['a', 'b', 'c']);
  t.is(seen.filter((m) => m.type === 'USERLIST').length, 2);
  // A JOINED starts a new list.
  peer.write('JOINED: #big\nUSERLIST #big: a\nJOINED: #big\nUSERLIST #big: a, d\n');
  const first = await client.waitFor('USERLIST');
  const second = await client.waitFor('USERLIST');
  t.deepEqual([first.nicks, second.nicks], [['a'], ['a', 'd']]);
});

test('client - a line split across two reads is parsed once whole', async (t) => {
  const { client, peer } = await fake(t);
  peer.write('MSG bob al');
  await new Promise((r) => setTimeout(r, 30));
  peer.write('ice: hi: there\n');
  t.deepEqual(await client.waitFor('MSG'), { type: 'MSG', sender: 'bob', recipient: 'alice', text: 'hi: there' });
});

test('client - join rejects on an ERROR reply and ignores stale errors in the inbox', async (t) => {
  const { client, peer } = await fake(t);
  peer.write('ERROR NO_SUCH_USER: no such user: zed\n');
  await until(() => client.inbox().length === 1);
  const join = client.join('#ok');
  await peer.received(1);
  peer.write('JOINED: #ok\nUSERLIST #ok: me\n');
  t.deepEqual(await join, ['me']);
  const bad = client.join('#x');
  await peer.received(2);
  peer.write('ERROR TOO_MANY_CHANNELS: you are already in 1 channels\n');
  const err = await t.throwsAsync(bad, { instanceOf: ClientError });
  t.is(err?.code, 'TOO_MANY_CHANNELS');
  t.is((await client.waitForError('NO_SUCH_USER')).text, 'no such user: zed');
});

test('client - talkRequest and talkJoin resolve with the key', async (t) => {
  const { client, peer } = await fake(t);
  const req = client.talkRequest('Bob');
  t.deepEqual(await peer.received(1), ['TALK Bob: REQUEST']);
  peer.write('TALK bob abcdefghijklmnop1234: REQUEST\n');
  t.is(await req, 'abcdefghijklmnop1234');
  const group = client.talkJoin('#dev');
  t.deepEqual(await peer.received(2), ['TALK Bob: REQUEST', 'TALK #dev: JOIN']);
  peer.write('TALK #dev qrstuvwxyzABCDEF5678: JOINED\nTALKLIST #dev: me, you\n');
  t.deepEqual(await group, { key: 'qrstuvwxyzABCDEF5678', nicks: ['me', 'you'] });
  client.talkAccept('Bob', 'k1');
  client.talkDeny('Bob', 'k2');
  client.talkEnd('#dev', 'k3');
  t.deepEqual((await peer.received(5)).slice(2), ['TALK Bob k1: ACCEPT', 'TALK Bob k2: DENY', 'TALK #dev k3: END']);
});

test('client - the inbox keeps only the newest inboxLimit messages', async (t) => {
  const { client, peer } = await fake(t, { inboxLimit: 3 });
  peer.write([1, 2, 3, 4, 5].map((i) => `MSG s r: ${i}\n`).join(''));
  await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(
    client.inbox().map((m) => (m.type === 'MSG' ? m.text : '')),
    ['3', '4', '5'],
  );
});

test('client - close sends DISCONNECT and destroys the socket if the server never closes it', async (t) => {
  const { client, peer } = await fake(t, { timeoutMs: 100 });
  const started = Date.now();
  await client.close();
  t.true(client.closed);
  t.deepEqual(await peer.received(1), ['DISCONNECT']);
  t.true(Date.now() - started < 2000);
  await client.close(); // idempotent
});

test('client - open rejects with CLOSED when nothing listens', async (t) => {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  const err = await t.throwsAsync(ParleyClient.connect({ port, nick: 'x' }), { instanceOf: ClientError });
  t.is(err?.code, 'CLOSED');
});
