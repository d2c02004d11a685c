import * as dgram from 'node:dgram';
const [port, b64, ms] = process.argv.slice(2);
const frame = Buffer.from(b64, 'base64');
const s = dgram.createSocket('udp4');
s.on('error', () => {});
s.bind(0, '127.0.0.1', () => {
  s.connect(Number(port), '127.0.0.1', () => {
    const start = performance.now();
    let sent = 0;
    const tick = () => {
      const el = performance.now() - start;
      if (el >= Number(ms)) {
        process.send({ sent, ms: el }, () => {
          s.close();
          process.exit(0);
        });
        return;
      }
      for (let i = 0; i < 256; i++) s.send(frame);
      sent += 256;
      setImmediate(tick);
    };
    tick();
  });
});
