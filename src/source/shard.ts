/**
 * --shard K/N: which shard a path belongs to, by rclone's --hash-filter rule
 * exactly (fs/filter/filter.go, IncludeRemote), so that foldercopy and rclone
 * split a tree the same way: the path relative to the copy's root, "/"-separated,
 * NFC-normalised and lower-cased as Go does it; its MD5; the first 8 bytes of the
 * digest as a little-endian unsigned 64-bit integer, modulo N.
 *
 * Where JavaScript and Go differ, Go's result is the one taken:
 *  - Lower case: Go's strings.ToLower maps each character alone (Unicode's simple
 *    mapping), JavaScript's toLowerCase uses the full mapping and context. They
 *    differ on exactly two characters: 'İ' (U+0130), 'i' in Go and "i̇" in
 *    JavaScript, and 'Σ' (U+03A3), always 'σ' in Go but 'ς' at the end of a word
 *    in JavaScript. Both are mapped explicitly before toLowerCase.
 *  - A name that is not valid UTF-8 reaches rclone's hash filter as its bytes
 *    (the local backend's encoding on Linux keeps them); norm.NFC passes invalid
 *    bytes through, and strings.ToLower then replaces each one with U+FFFD. So
 *    does foldercopy: each byte that is not part of a well-formed sequence becomes
 *    U+FFFD, before normalisation (U+FFFD composes with nothing, so the order
 *    does not matter).
 */
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { FoldercopyError } from '../shared/errors.js';
import { bytesFromRaw, sequenceLength, type RawPath } from '../shared/raw-path.js';

/** One shard of N: `index` from 0 to count - 1. */
export interface Shard {
  index: number;
  count: number;
}

const NON_ASCII = /[^\x00-\x7f]/;
const GO_SIMPLE_LOWER = /[\u0130\u03a3]/g;

/** The path as Go lower-cases it after NFC, as UTF-8: the bytes rclone hashes. */
export function shardKey(path: RawPath): Buffer | string {
  // Most paths are ASCII (a raw path's escaped line breaks are not, and take the long way): no decoding at all.
  if (!NON_ASCII.test(path)) return path.toLowerCase();
  const bytes = bytesFromRaw(path);
  const text = isUtf8(bytes) ? bytes.toString('utf8') : replacingInvalid(bytes);
  const lower = text.normalize('NFC').replace(GO_SIMPLE_LOWER, (c) => (c === '\u0130' ? 'i' : '\u03c3')).toLowerCase();
  return Buffer.from(lower, 'utf8');
}

/** As Go's range loop decodes a string: each byte outside a well-formed sequence is one U+FFFD. */
function replacingInvalid(bytes: Buffer): string {
  let text = '';
  let runStart = 0;
  for (let i = 0; i < bytes.length; ) {
    const length = sequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    text += `${bytes.toString('utf8', runStart, i)}\ufffd`;
    runStart = ++i;
  }
  return text + bytes.toString('utf8', runStart);
}

/** The shard (0 to count - 1) a path relative to the copy's root belongs to. */
export function shardOf(path: RawPath, count: number): number {
  const digest = createHash('md5').update(shardKey(path)).digest();
  return Number(digest.readBigUInt64LE(0) % BigInt(count));
}

/** The library's shard option checked: whole numbers, 0 <= index < count (rclone also takes K >= N as K mod N; a matrix never needs it). */
export function checkShard(value: unknown): Shard {
  const shard = value as Partial<Shard> | null;
  const whole = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n);
  if (typeof shard === 'object' && shard !== null && whole(shard.index) && whole(shard.count) && shard.count >= 1 && shard.index >= 0 && shard.index < shard.count) {
    return { index: shard.index, count: shard.count };
  }
  const got = typeof shard === 'object' && shard !== null ? `{ index: ${String(shard.index)}, count: ${String(shard.count)} }` : JSON.stringify(value) ?? String(value);
  throw new FoldercopyError('USAGE', `the shard option must be { index, count }, whole numbers with 0 <= index < count, got ${got}`);
}

/** `K/N` as the command line gives it; null when it is not two whole numbers with 0 <= K < N. */
export function parseShard(text: string): Shard | null {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  if (!match) return null;
  const index = Number(match[1]);
  const count = Number(match[2]);
  return Number.isSafeInteger(count) && count >= 1 && index < count ? { index, count } : null;
}
