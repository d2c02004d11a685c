/**
 * The HAProxy PROXY protocol, v1 (text) and v2 (binary), receiver side: a load
 * balancer in front of parley prefixes each connection with the client's real
 * address. Parsed strictly (as Ergo and InspIRCd do): anything but a well-formed
 * header is refused, never guessed at.
 * Spec: https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { ParleyError } from './errors.js';

/** Limits of the PROXY header reader. */
export interface ProxyProtocolLimits {
  /** Longest header accepted, v2 TLVs included (v1 is at most 107 bytes by the spec). Default 1024. */
  maxHeaderBytes: number;
  /** Time a trusted proxy may take to send the whole header after accept, ms. Default 5000. */
  headerTimeoutMs: number;
}

export const DEFAULT_PROXY_PROTOCOL: Readonly<ProxyProtocolLimits> = Object.freeze({ maxHeaderBytes: 1024, headerTimeoutMs: 5000 });

/** Longest v1 header, CRLF included (spec 2.1). */
export const PROXY_V1_MAX_BYTES = 107;
const V1_PREFIX = Buffer.from('PROXY ');
/** The 12-byte v2 signature. */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED = 16;

export interface ProxyEndpoint {
  address: string;
  port: number;
}

export interface ProxyHeader {
  version: 1 | 2;
  /** LOCAL: the proxy's own connection (a health check); use the socket's address. */
  command: 'PROXY' | 'LOCAL';
  /** UNKNOWN: the proxy does not know (or the family is not TCP over IP); use the socket's address. */
  family: 'TCP4' | 'TCP6' | 'UNKNOWN';
  /** The client, for PROXY over TCP4/TCP6. */
  source?: ProxyEndpoint;
  destination?: ProxyEndpoint;
}

export type ProxyParse =
  | { kind: 'incomplete' }
  | { kind: 'invalid'; reason: string }
  | { kind: 'header'; header: ProxyHeader /** bytes the header took; what follows is the client's */; length: number };

const INCOMPLETE: ProxyParse = { kind: 'incomplete' };
const invalid = (reason: string): ProxyParse => ({ kind: 'invalid', reason });

/**
 * Whether `buf` starts with a PROXY header signature: 'yes', 'no', or 'maybe'
 * (too short to tell, but a prefix of one).
 */
export function proxySignature(buf: Buffer): 'yes' | 'no' | 'maybe' {
  let maybe = false;
  for (const sig of [V1_PREFIX, PROXY_V2_SIGNATURE]) {
    const n = Math.min(buf.length, sig.length);
    if (buf.subarray(0, n).equals(sig.subarray(0, n))) {
      if (buf.length >= sig.length) return 'yes';
      maybe = true;
    }
  }
  return maybe ? 'maybe' : 'no';
}

/** Parses the PROXY header at the start of `buf` (all bytes received so far). */
export function parseProxyHeader(buf: Buffer, maxBytes: number = DEFAULT_PROXY_PROTOCOL.maxHeaderBytes): ProxyParse {
  const sig = proxySignature(buf);
  if (sig === 'no') return invalid('not a PROXY protocol header');
  if (sig === 'maybe') return INCOMPLETE;
  return buf[0] === 0x50 ? parseV1(buf, maxBytes) : parseV2(buf, maxBytes);
}

function parseV1(buf: Buffer, maxBytes: number): ProxyParse {
  const limit = Math.min(PROXY_V1_MAX_BYTES, maxBytes);
  const lf = buf.indexOf(0x0a);
  if (lf < 0) return buf.length >= limit ? invalid('v1 header too long') : INCOMPLETE;
  if (lf + 1 > limit) return invalid('v1 header too long');
  if (lf === 0 || buf[lf - 1] !== 0x0d) return invalid('v1 header must end with CRLF');
  const line = buf.toString('latin1', 0, lf - 1);
  if (/[^\x20-\x7e]/.test(line)) return invalid('v1 header has non-printable bytes');
  const parts = line.split(' ');
  const length = lf + 1;
  // parts[0] is 'PROXY' (the signature).
  if (parts[1] === 'UNKNOWN') return { kind: 'header', length, header: { version: 1, command: 'PROXY', family: 'UNKNOWN' } };
  if (parts[1] !== 'TCP4' && parts[1] !== 'TCP6') return invalid(`v1 unknown protocol '${parts[1] ?? ''}'`);
  if (parts.length !== 6) return invalid('v1 header needs: PROXY TCP4|TCP6 src dst sport dport');
  const family = parts[1];
  const isIp = family === 'TCP4' ? isIPv4 : isIPv6;
  const [, , src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  if (!isIp(src) || !isIp(dst)) return invalid(`v1 bad ${family} address`);
  const sp = v1Port(sport);
  const dp = v1Port(dport);
  if (sp === undefined || dp === undefined) return invalid('v1 bad port');
  return {
    kind: 'header',
    length,
    header: { version: 1, command: 'PROXY', family, source: { address: src, port: sp }, destination: { address: dst, port: dp } },
  };
}

/** Decimal 0..65535 without leading zeros or signs (spec 2.1). */
function v1Port(s: string): number | undefined {
  if (!/^(0|[1-9]\d{0,4})$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

function parseV2(buf: Buffer, maxBytes: number): ProxyParse {
  if (buf.length < V2_FIXED) return INCOMPLETE;
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) return invalid(`v2 unsupported version ${verCmd >> 4}`);
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return invalid(`v2 unknown command ${cmd}`);
  const fam = buf[13]!;
  const af = fam >> 4;
  const proto = fam & 0x0f;
  if (af > 3 || proto > 2) return invalid(`v2 unknown address family 0x${fam.toString(16)}`);
  const len = buf.readUInt16BE(14);
  const length = V2_FIXED + len;
  if (length > maxBytes) return invalid(`header of ${length} bytes exceeds ${maxBytes}`);
  const need = af === 1 ? 12 : af === 2 ? 36 : af === 3 ? 216 : 0;
  if (len < need) return invalid('v2 address block shorter than its family');
  if (buf.length < length) return INCOMPLETE;
  if (cmd === 0) return { kind: 'header', length, header: { version: 2, command: 'LOCAL', family: 'UNKNOWN' } };
  // PROXY over UNSPEC or UNIX sockets: the spec says use the connection's own address.
  if (af === 0 || af === 3) return { kind: 'header', length, header: { version: 2, command: 'PROXY', family: 'UNKNOWN' } };
  if (proto !== 1) return invalid('v2 transport is not a stream');
  const a = buf.subarray(V2_FIXED);
  if (af === 1) {
    return {
      kind: 'header',
      length,
      header: {
        version: 2,
        command: 'PROXY',
        family: 'TCP4',
        source: { address: [...a.subarray(0, 4)].join('.'), port: a.readUInt16BE(8) },
        destination: { address: [...a.subarray(4, 8)].join('.'), port: a.readUInt16BE(10) },
      },
    };
  }
  return {
    kind: 'header',
    length,
    header: {
      version: 2,
      command: 'PROXY',
      family: 'TCP6',
      source: { address: ipv6(a.subarray(0, 16)), port: a.readUInt16BE(32) },
      destination: { address: ipv6(a.subarray(16, 32)), port: a.readUInt16BE(34) },
    },
  };
}

/** 16 bytes as an IPv6 address; IPv4-mapped ones become dotted IPv4 (as parley normalises socket addresses). */
function ipv6(b: Buffer): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(b.readUInt16BE(i));
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) return [...b.subarray(12, 16)].join('.');
  // The longest run of two or more zero words becomes '::' (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Encodes a v2 header (for tests and the load harness behind a proxy). */
export function encodeProxyV2(h: { command: 'PROXY' | 'LOCAL'; source?: ProxyEndpoint; destination?: ProxyEndpoint; tlv?: Buffer }): Buffer {
  const tlv = h.tlv ?? Buffer.alloc(0);
  if (h.command === 'LOCAL' || !h.source || !h.destination) {
    const out = Buffer.alloc(V2_FIXED);
    PROXY_V2_SIGNATURE.copy(out);
    out[12] = h.command === 'LOCAL' ? 0x20 : 0x21;
    out[13] = 0x00;
    out.writeUInt16BE(tlv.length, 14);
    return Buffer.concat([out, tlv]);
  }
  const v4 = isIPv4(h.source.address);
  const addrLen = v4 ? 12 : 36;
  const out = Buffer.alloc(V2_FIXED + addrLen);
  PROXY_V2_SIGNATURE.copy(out);
  out[12] = 0x21;
  out[13] = v4 ? 0x11 : 0x21;
  out.writeUInt16BE(addrLen + tlv.length, 14);
  const put = (ip: string, at: number): void => {
    const bytes = v4 ? ip.split('.').map(Number) : ipv6Bytes(ip);
    Buffer.from(bytes).copy(out, at);
  };
  put(h.source.address, V2_FIXED);
  put(h.destination.address, V2_FIXED + (v4 ? 4 : 16));
  out.writeUInt16BE(h.source.port, V2_FIXED + (v4 ? 8 : 32));
  out.writeUInt16BE(h.destination.port, V2_FIXED + (v4 ? 10 : 34));
  return Buffer.concat([out, tlv]);
}

function ipv6Bytes(ip: string): number[] {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const words = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t].map((w) => Number.parseInt(w, 16));
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/**
 * The addresses a PROXY header is accepted from: single addresses and CIDR
 * blocks, IPv4 and IPv6. Throws PARLEY_ERR_INVALID_OPTION on a malformed entry.
 */
export class TrustedProxies {
  readonly #list = new BlockList();
  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const e = raw.trim();
      const [addr, bits, extra] = e.split('/');
      const type = addr && isIPv4(addr) ? 'ipv4' : addr && isIPv6(addr) ? 'ipv6' : undefined;
      if (!type || extra !== undefined) throw new ParleyError('PARLEY_ERR_INVALID_OPTION', 'proxyProtocol.trusted', `'${raw}' is not an address or CIDR block`);
      if (bits === undefined) {
        this.#list.addAddress(addr!, type);
        continue;
      }
      const max = type === 'ipv4' ? 32 : 128;
      if (!/^\d{1,3}$/.test(bits) || Number(bits) > max)
        throw new ParleyError('PARLEY_ERR_INVALID_OPTION', 'proxyProtocol.trusted', `'${raw}': prefix length must be 0..${max}`);
      this.#list.addSubnet(addr!, Number(bits), type);
    }
  }

  /** Whether a (normalised) socket address is a trusted proxy. */
  has(ip: string): boolean {
    if (isIPv4(ip)) return this.#list.check(ip, 'ipv4');
    if (isIPv6(ip)) return this.#list.check(ip, 'ipv6');
    return false;
  }
}
