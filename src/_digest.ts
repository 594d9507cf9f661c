/**
 * SHA-256 of a string's UTF-8 bytes, as lowercase hex: the stored form of the flow's opaque tokens
 * and out-of-band codes. `node:crypto`'s `createHash` where the runtime has it (a sign-in hashes
 * five or six tokens, and the native hash of a short string costs a fraction of the portable
 * one), @noble/hashes elsewhere; the same digest either way (tested against each other).
 * @module
 * @internal
 */
import { sha256 } from '@noble/hashes/sha2';
import { hex } from './_encoding.js';
import { nativeFunction } from './_native.js';

interface NodeHash {
  update(data: string, encoding: 'utf8'): NodeHash;
  digest(encoding: 'hex'): string;
}

/** @internal SHA-256 of `text` (UTF-8; a lone surrogate becomes U+FFFD on both paths), hex. */
export function sha256Hex(text: string): string {
  const create = nativeFunction('createHash') as ((algorithm: string) => NodeHash) | undefined;
  if (create !== undefined) return create('sha256').update(text, 'utf8').digest('hex');
  return hex(sha256(new TextEncoder().encode(text)));
}
