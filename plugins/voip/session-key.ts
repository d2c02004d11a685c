/** Session keys: 22 base62 characters from the CSPRNG, about 131 bits. */
import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const SESSION_KEY_LENGTH = 22;

/** A fresh key matching `[A-Za-z0-9]{22}`, each character uniform. */
export function newSessionKey(): string {
  let key = '';
  while (key.length < SESSION_KEY_LENGTH) {
    const bytes = randomBytes(32);
    for (let i = 0; i < bytes.length && key.length < SESSION_KEY_LENGTH; i++) {
      const b = bytes[i]!;
      // Rejection sampling: 248 = 4 * 62, so `b % 62` stays uniform.
      if (b < 248) key += ALPHABET[b % 62];
    }
  }
  return key;
}
