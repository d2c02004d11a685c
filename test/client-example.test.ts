// The README's client example (examples/client.ts) against a real server, with bob answering.
import test from 'ava';
import { createServer } from '../index.js';
import { ParleyClient, VoiceClient } from '../harness/client/index.js';
import { alice } from '../examples/client.js';

test('README - the client example chats, calls and sends voice that bob hears', async (t) => {
  const server = createServer({ logger: 'silent' });
  const { port } = await server.listen({ port: 0 });
  t.teardown(() => server.close());
  const bob = await ParleyClient.connect({ port, nick: 'bob' });
  t.teardown(() => bob.destroy());
  await bob.join('#dev');
  const run = alice(port);
  await bob.waitFor('MSG', (m) => m.text === 'hello');
  bob.say('#dev', 'hi alice');
  const call = await bob.waitFor('TALK', (m) => m.event === 'REQUEST');
  const ear = await VoiceClient.open({ host: '127.0.0.1', port, key: call.key, nick: 'bob' });
  t.teardown(() => ear.close());
  ear.bind();
  await new Promise((r) => setTimeout(r, 50)); // let the bind frame land before the call starts
  bob.talkAccept('alice', call.key);
  const result = await run;
  t.deepEqual(result, { reply: 'hi alice', framesSent: 51 });
  for (let i = 0; i < 40 && ear.stats().totals.received < 50; i++) await new Promise((r) => setTimeout(r, 25));
  t.is(ear.stats().totals.received, 50);
});
