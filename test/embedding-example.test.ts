// The README's embedding example, verbatim (with '../index.js' for 'parley').
import test from 'ava';
import { createServer, ParleyClient } from '../index.js';

test('README - embed a server, greet whoever joins #dev, broadcast, close', async (t) => {
  const server = createServer({ hostname: 'chat.example.org' });
  const { port } = await server.listen({ port: 0 });
  t.teardown(() => server.close());

  server.events$.subscribe((e) => {
    if (e.type === 'joined' && e.channel === '#dev') server.send(e.nick, `welcome to ${e.channel}`, { from: 'bot' });
  });

  const alice = await ParleyClient.connect({ port, nick: 'alice' });
  await alice.join('#dev');
  t.is((await alice.waitFor('MSG')).text, 'welcome to #dev');

  server.broadcast('maintenance at noon', { from: 'ops' });
  t.deepEqual(await alice.waitFor('MSG'), { type: 'MSG', sender: 'ops', recipient: 'alice', text: 'maintenance at noon' });

  await alice.close();
  await server.close();
});
