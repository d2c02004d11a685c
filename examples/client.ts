import { ParleyClient, VoiceClient } from '../harness/client/index.js';

/** Alice joins #dev, says hello, waits for bob, calls him and sends 1 s of voice. */
export async function alice(port: number): Promise<{ reply: string; framesSent: number }> {
  const alice = await ParleyClient.connect({ port, nick: 'alice' });
  await alice.join('#dev'); // resolves with the USERLIST nicks
  alice.say('#dev', 'hello');
  const reply = await alice.waitFor('MSG', (m) => m.sender === 'bob', 5000);

  const key = await alice.talkRequest('bob'); // TALK bob: REQUEST
  await alice.waitFor('TALK', (m) => m.event === 'ACCEPTED');
  const voice = await VoiceClient.open({ host: '127.0.0.1', port, key, nick: 'alice' });
  voice.bind(); // an empty frame binds this UDP address to (key, alice)
  await voice.paced({ payloadBytes: 100, frames: 50 }); // 1 s of 20 ms frames
  const framesSent = voice.stats().sent; // 51 with the bind frame; stats() also has loss, latency, jitter

  await voice.close();
  await alice.close();
  return { reply: reply.text, framesSent };
}
