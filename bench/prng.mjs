// Seeded randomness for the corpora. Two sources on purpose:
// - mulberry32 drives structure (names, sizes, modes, times): tiny, fast, and
//   its output depends only on the seed, so the same seed gives the same tree.
// - AES-128-CTR keystream gives the file bytes: incompressible, deterministic
//   for a key, and ~GB/s, which a JS PRNG is not when writing 2 GiB.
import { createCipheriv, createHash } from 'node:crypto';

/** @param {string} text @returns {Buffer} */
export function sha256(text) {
  return createHash('sha256').update(text).digest();
}

/** A 32-bit seed derived from any string, so `--seed abc` works as well as `--seed 42`. */
export function seed32(text) {
  return sha256(text).readUInt32LE(0);
}

export class Rng {
  /** @param {string} seedText */
  constructor(seedText) {
    this.state = seed32(seedText) >>> 0;
  }

  /** mulberry32: a float in [0, 1). */
  next() {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n) {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi], both inclusive. */
  range(lo, hi) {
    return lo + this.int(hi - lo + 1);
  }

  chance(p) {
    return this.next() < p;
  }

  /** @template T @param {readonly T[]} items @returns {T} */
  pick(items) {
    return /** @type {T} */ (items[this.int(items.length)]);
  }

  /** Standard normal by Box–Muller (one of the pair; simplicity over speed). */
  normal() {
    const u = 1 - this.next(); // (0, 1]: log(0) would be -Infinity
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  logNormal(median, sigma) {
    return median * Math.exp(sigma * this.normal());
  }
}

/**
 * A deterministic stream of incompressible bytes for a key.
 * @param {string} keyText
 * @returns {(length: number) => Buffer} call repeatedly; each call continues the stream
 */
export function byteStream(keyText) {
  const digest = sha256(`bytes:${keyText}`);
  const cipher = createCipheriv('aes-128-ctr', digest.subarray(0, 16), digest.subarray(16, 32));
  return (length) => cipher.update(Buffer.alloc(length));
}
