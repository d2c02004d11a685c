import test from 'ava';
import { encodeProxyV2, parseProxyHeader, proxySignature, PROXY_V2_SIGNATURE, TrustedProxies } from './proxy-protocol.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

test('a v1 TCP4 header gives the source and destination, and its length', (t) => {
  const r = parseProxyHeader(b('PROXY TCP4 203.0.113.7 192.0.2.1 51234 7420\r\nCONNECT alice 1.1\n'));
  t.deepEqual(r, {
    kind: 'header',
    length: 45,
    header: {
      version: 1,
      command: 'PROXY',
      family: 'TCP4',
      source: { address: '203.0.113.7', port: 51234 },
      destination: { address: '192.0.2.1', port: 7420 },
    },
  });
});

test('a v1 TCP6 header gives IPv6 addresses', (t) => {
  const r = parseProxyHeader(b('PROXY TCP6 2001:db8::7 2001:db8::1 1 65535\r\n'));
  t.is(r.kind, 'header');
  if (r.kind === 'header') t.deepEqual(r.header.source, { address: '2001:db8::7', port: 1 });
});

test('a v1 UNKNOWN header is accepted without addresses, whatever follows UNKNOWN', (t) => {
  for (const h of ['PROXY UNKNOWN\r\n', 'PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n']) {
    const r = parseProxyHeader(b(h));
    t.deepEqual(r, { kind: 'header', length: h.length, header: { version: 1, command: 'PROXY', family: 'UNKNOWN' } });
  }
});

test('malformed v1 headers are invalid', (t) => {
  for (const h of [
    'PROXY TCP4 203.0.113.7 192.0.2.1 51234\r\n',
    'PROXY TCP4 2001:db8::7 192.0.2.1 1 2\r\n',
    'PROXY TCP6 203.0.113.7 192.0.2.1 1 2\r\n',
    'PROXY TCP4 203.0.113.7 192.0.2.1 65536 2\r\n',
    'PROXY TCP4 203.0.113.7 192.0.2.1 01 2\r\n',
    'PROXY TCP4 203.0.113.7 192.0.2.1 -1 2\r\n',
    'PROXY TCP4  203.0.113.7 192.0.2.1 1 2\r\n',
    'PROXY TCP4 203.0.113.7 192.0.2.1 1 2\n',
    'PROXY UDP4 203.0.113.7 192.0.2.1 1 2\r\n',
    'PROXY TCP4 203.0.113.7 192.0.2.1 1 2 3\r\n',
    'PROXY TCP4 256.0.113.7 192.0.2.1 1 2\r\n',
  ]) {
    t.is(parseProxyHeader(b(h)).kind, 'invalid', h);
  }
});

test('a v1 header without CRLF within 107 bytes is invalid; shorter is incomplete', (t) => {
  t.deepEqual(parseProxyHeader(b('PROXY TCP4 203.0.113.7')), { kind: 'incomplete' });
  t.is(parseProxyHeader(b(`PROXY UNKNOWN ${'x'.repeat(100)}`)).kind, 'invalid');
  t.is(parseProxyHeader(b(`PROXY UNKNOWN ${'x'.repeat(92)}\r\n`)).kind, 'invalid');
  t.is(parseProxyHeader(b(`PROXY UNKNOWN ${'x'.repeat(91)}\r\n`)).kind, 'header');
});

test('a v2 PROXY header over TCP4 and TCP6 gives the source; TLVs are skipped', (t) => {
  const v4 = encodeProxyV2({
    command: 'PROXY',
    source: { address: '203.0.113.7', port: 40000 },
    destination: { address: '192.0.2.1', port: 7420 },
    tlv: Buffer.from([0x04, 0x00, 0x01, 0x00]),
  });
  const r4 = parseProxyHeader(Buffer.concat([v4, b('CONNECT alice 1.1\n')]));
  t.deepEqual(r4, {
    kind: 'header',
    length: v4.length,
    header: {
      version: 2,
      command: 'PROXY',
      family: 'TCP4',
      source: { address: '203.0.113.7', port: 40000 },
      destination: { address: '192.0.2.1', port: 7420 },
    },
  });
  const v6 = encodeProxyV2({ command: 'PROXY', source: { address: '2001:db8::7', port: 1 }, destination: { address: '::1', port: 2 } });
  const r6 = parseProxyHeader(v6);
  t.is(r6.kind, 'header');
  if (r6.kind === 'header') {
    t.is(r6.length, 52);
    t.deepEqual(r6.header.source, { address: '2001:db8::7', port: 1 });
    t.deepEqual(r6.header.destination, { address: '::1', port: 2 });
  }
});

test('a v2 IPv4-mapped IPv6 source reads as dotted IPv4', (t) => {
  const r = parseProxyHeader(encodeProxyV2({ command: 'PROXY', source: { address: '::ffff:cb00:7107', port: 1 }, destination: { address: '::1', port: 2 } }));
  t.true(r.kind === 'header' && r.header.source?.address === '203.0.113.7');
});

test('a v2 LOCAL header is accepted without addresses', (t) => {
  const r = parseProxyHeader(encodeProxyV2({ command: 'LOCAL' }));
  t.deepEqual(r, { kind: 'header', length: 16, header: { version: 2, command: 'LOCAL', family: 'UNKNOWN' } });
});

test('a truncated v2 header is incomplete at every cut', (t) => {
  const h = encodeProxyV2({ command: 'PROXY', source: { address: '203.0.113.7', port: 1 }, destination: { address: '192.0.2.1', port: 2 } });
  for (let n = 1; n < h.length; n++) t.deepEqual(parseProxyHeader(h.subarray(0, n)), { kind: 'incomplete' }, `cut at ${n}`);
});

test('an oversized v2 header is invalid as soon as its length is known', (t) => {
  const h = encodeProxyV2({
    command: 'PROXY',
    source: { address: '203.0.113.7', port: 1 },
    destination: { address: '192.0.2.1', port: 2 },
    tlv: Buffer.alloc(2000),
  });
  const r = parseProxyHeader(h.subarray(0, 16), 1024);
  t.is(r.kind, 'invalid');
});

test('malformed v2 headers are invalid', (t) => {
  const good = encodeProxyV2({ command: 'PROXY', source: { address: '203.0.113.7', port: 1 }, destination: { address: '192.0.2.1', port: 2 } });
  const bad = (at: number, v: number): Buffer => {
    const c = Buffer.from(good);
    c[at] = v;
    return c;
  };
  t.is(parseProxyHeader(bad(12, 0x11)).kind, 'invalid', 'version 1 in a v2 header');
  t.is(parseProxyHeader(bad(12, 0x22)).kind, 'invalid', 'unknown command');
  t.is(parseProxyHeader(bad(13, 0x41)).kind, 'invalid', 'unknown family');
  t.is(parseProxyHeader(bad(13, 0x12)).kind, 'invalid', 'datagram transport');
  t.is(parseProxyHeader(bad(15, 4)).kind, 'invalid', 'address block shorter than TCP4 needs');
});

test('garbage is not a PROXY header', (t) => {
  for (const g of [
    b('CONNECT alice 1.1\n'),
    b('proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n'),
    Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0b]),
    b('\x16\x03\x01'),
  ]) {
    t.is(parseProxyHeader(g).kind, 'invalid');
  }
});

test('proxySignature tells yes, no, and maybe from the first bytes', (t) => {
  t.is(proxySignature(b('PROXY ')), 'yes');
  t.is(proxySignature(b('PRO')), 'maybe');
  t.is(proxySignature(PROXY_V2_SIGNATURE.subarray(0, 5)), 'maybe');
  t.is(proxySignature(PROXY_V2_SIGNATURE), 'yes');
  t.is(proxySignature(b('CONNECT')), 'no');
  t.is(proxySignature(b('PROXX')), 'no');
});

test('trusted proxies match addresses and CIDR blocks, and refuse malformed entries', (t) => {
  const tp = new TrustedProxies(['127.0.0.1', '10.0.0.0/8', '2001:db8::/32']);
  t.true(tp.has('127.0.0.1'));
  t.false(tp.has('127.0.0.2'));
  t.true(tp.has('10.200.1.2'));
  t.true(tp.has('2001:db8::9'));
  t.false(tp.has('2001:db9::9'));
  t.false(tp.has('not-an-ip'));
  for (const e of ['10.0.0.0/33', 'localhost', '10.0.0.0/8/1', '::/129']) t.throws(() => new TrustedProxies([e]), { message: /PARLEY_ERR_INVALID_OPTION/ });
});
