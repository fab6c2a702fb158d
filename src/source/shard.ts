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
 *  - rclone hashes its "standard" name (lib/encoder: the local backend's names
 *    decoded, then encoded with encoder.Standard), in which a control character
 *    (0x01-0x1F) is its Unicode symbol (U+2401-U+241F), DEL is U+2421, and such a
 *    symbol already in a name is quoted with U+201B. foldercopy maps them alike.
 *    Not reproduced: names holding U+201B, U+2400 or U+FF0F (which that decoding
 *    rewrites) are hashed as they are.
 */
import crypto from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { bytesFromRaw, sequenceLength, type RawPath } from '../shared/raw-path.js';

const BEYOND_PRINTABLE_ASCII = /[^\x20-\x7e]/;
const GO_SIMPLE_LOWER = /[\u0130\u03a3]/g;
const RCLONE_ENCODED = /[\x01-\x1f\x7f\u2401-\u241f\u2421]/g;

function rcloneStandard(c: string): string {
  const code = c.charCodeAt(0);
  if (code < 0x20) return String.fromCharCode(0x2400 + code);
  return code === 0x7f ? '\u2421' : `\u201b${c}`;
}

/** The path as rclone names it, NFC-normalised and lower-cased as Go does, in UTF-8: the bytes rclone hashes. */
export function shardKey(path: RawPath): Buffer | string {
  // Most paths are printable ASCII (a raw path's escaped line breaks are not, and take the long way): no decoding at all.
  if (!BEYOND_PRINTABLE_ASCII.test(path)) return path.toLowerCase();
  const bytes = bytesFromRaw(path);
  const text = (isUtf8(bytes) ? bytes.toString('utf8') : replacingInvalid(bytes)).replace(RCLONE_ENCODED, rcloneStandard);
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

// crypto.hash (Node 20.12 and later) is one call, about twice as fast as createHash on a path; older Nodes lack it.
const md5: (data: string | Buffer) => Buffer =
  typeof crypto.hash === 'function' ? (data) => crypto.hash('md5', data, 'buffer') : (data) => crypto.createHash('md5').update(data).digest();

/** The shard (0 to count - 1) a path relative to the copy's root belongs to. */
export function shardOf(path: RawPath, count: number): number {
  const digest = md5(shardKey(path));
  return Number(digest.readBigUInt64LE(0) % BigInt(count));
}
