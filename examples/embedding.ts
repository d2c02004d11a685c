import { createServer } from '../index.js';
import { ParleyClient } from '../harness/client/index.js';

export async function main(): Promise<string[]> {
  const server = createServer({ hostname: 'chat.example.org' }); // every plugin, in memory
  const { port } = await server.listen({ port: 0 }); // 0: any free port

  // Greet whoever joins #dev, speaking as a system user called "bot".
  server.events$.subscribe((e) => {
    if (e.type === 'joined' && e.channel === '#dev') server.send(e.nick, `welcome to ${e.channel}`, { from: 'bot' });
  });

  const alice = await ParleyClient.connect({ port, nick: 'alice' });
  await alice.join('#dev');
  const welcome = await alice.waitFor('MSG'); // MSG bot alice: welcome to #dev
  server.broadcast('maintenance at noon', { from: 'ops' });
  const notice = await alice.waitFor('MSG'); // MSG ops alice: maintenance at noon

  await alice.close();
  await server.close(); // DISCONNECT to every client, resolves once all are closed
  return [welcome.text, notice.text];
}

if (require.main === module) main().then((texts) => console.log(texts.join('\n')));
