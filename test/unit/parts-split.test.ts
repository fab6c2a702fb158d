// A plan's listing split into parts (src/parts/split.ts): a directory's files travel together in chunks,
// a large file alone, a file's names together, every entry exactly once, the same parts for the same listing.
import { describe, expect, it } from 'vitest';
import type { SourceListing } from '../../src/parts/list-source.js';
import { splitIntoParts } from '../../src/parts/split.js';

type Listed = SourceListing['entries'][number];

let nextIno = 1;
function entry(path: string, size = 100, extra: Partial<Listed> = {}): Listed {
  return { path, type: 'file', size, mtimeNs: 0n, mode: 0o100644, ino: nextIno++, nlink: 1, dev: 1, ...extra };
}

function listingOf(entries: Listed[]): SourceListing {
  return { directories: [], entries, failures: [] };
}

const directoryOf = (path: string): string => path.slice(0, Math.max(0, path.lastIndexOf('/')));

describe('splitIntoParts', () => {
  it('keeps each directory whole where chunks allow: a part touches a share of the directories, not all', () => {
    // 64 directories of 10 small files, 4 parts: chunks hold up to 40 files, so no directory is cut.
    const entries = Array.from({ length: 640 }, (_, i) => entry(`d${String(i % 64).padStart(2, '0')}/f${i}`));
    const parts = splitIntoParts(listingOf(entries), 4, 2_000);
    expect(parts.flat().map((e) => e.path).sort()).toEqual(entries.map((e) => e.path).sort());
    for (const part of parts) {
      expect(new Set(part.map((e) => directoryOf(e.path))).size).toBe(16);
      expect(part).toHaveLength(160);
    }
  });

  it('cuts a big directory into chunks so the parts still balance, and puts a large file in a chunk of its own', () => {
    const entries = [...Array.from({ length: 1_000 }, (_, i) => entry(`big/f${String(i).padStart(4, '0')}`)), entry('big/huge', 1e9)];
    const parts = splitIntoParts(listingOf(entries), 4, 2_000);
    const huge = parts.findIndex((part) => part.some((e) => e.path === 'big/huge'));
    expect(parts[huge]).toHaveLength(1);
    const others = parts.filter((_, k) => k !== huge).map((part) => part.length);
    expect(others.reduce((a, b) => a + b, 0)).toBe(1_000);
    expect(Math.max(...others) - Math.min(...others)).toBeLessThanOrEqual(63);
  });

  it('keeps all names of a file in one part, wherever they are, and sorts each part by path', () => {
    const linked = { ino: 999, nlink: 3 };
    const entries = [entry('a/x', 5, linked), entry('b/y', 5, linked), entry('c/z', 5, linked), ...Array.from({ length: 30 }, (_, i) => entry(`d/f${i}`))];
    const parts = splitIntoParts(listingOf(entries), 3, 2_000);
    const holding = parts.filter((part) => part.some((e) => e.ino === 999));
    expect(holding).toHaveLength(1);
    expect(holding[0]!.filter((e) => e.ino === 999).map((e) => e.path)).toEqual(['a/x', 'b/y', 'c/z']);
    for (const part of parts) expect(part.map((e) => e.path)).toEqual(part.map((e) => e.path).sort());
  });

  it('gives the same parts for the same listing in any order', () => {
    const entries = Array.from({ length: 300 }, (_, i) => entry(`d${i % 7}/f${i}`, (i * 37) % 1000));
    expect(splitIntoParts(listingOf([...entries].reverse()), 5, 2_000)).toEqual(splitIntoParts(listingOf(entries), 5, 2_000));
  });

  it('fills parts to the file cap where chunks would leave room none fits: each file an item then', () => {
    const entries = Array.from({ length: 40 }, (_, i) => entry(`d${i % 3}/f${i}`));
    const parts = splitIntoParts(listingOf(entries), 4, 10);
    expect(parts.map((part) => part.length)).toEqual([10, 10, 10, 10]);
  });

  it('refuses when the file cap needs more parts, naming how many', () => {
    const entries = Array.from({ length: 50 }, (_, i) => entry(`d/f${i}`));
    expect(() => splitIntoParts(listingOf(entries), 2, 10)).toThrow(/need 5 parts: give --parts 5 or more/);
  });
});
