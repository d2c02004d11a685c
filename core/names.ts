/**
 * Name rules of PROTOCOL.md section 2. Case-insensitive comparison uses ASCII
 * case mapping (IRC `CASEMAPPING=ascii`): only A-Z fold to a-z.
 */
const NICK_RE = /^[A-Za-z][A-Za-z0-9_\-[\]\\^{}|`]{0,31}$/;
const CHANNEL_RE = /^#[A-Za-z0-9_-]{1,64}$/;
const KEY_RE = /^[A-Za-z0-9]{16,64}$/;

export function isValidNick(nick: string): boolean {
  return NICK_RE.test(nick);
}

export function isValidChannel(name: string): boolean {
  return CHANNEL_RE.test(name);
}

export function isValidKey(key: string): boolean {
  return KEY_RE.test(key);
}

/** True when the string names a channel (starts with `#`), valid or not. */
export function isChannelName(name: string): boolean {
  return name.charCodeAt(0) === 35; // '#'
}

/** Real name: 0-64 code points, no `"`, no Unicode Cc (C0, DEL, C1). */
export function isValidRealname(name: string): boolean {
  let count = 0;
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if (c === 0x22 || c < 0x20 || (c >= 0x7f && c <= 0x9f)) return false;
    if (++count > 64) return false;
  }
  return true;
}

/** ASCII case folding, the key for every case-insensitive map. */
export function foldCase(name: string): string {
  return name.toLowerCase() === name ? name : asciiLower(name);
}

function asciiLower(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : s[i];
  }
  return out;
}
