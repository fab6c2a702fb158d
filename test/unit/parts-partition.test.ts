// The split of a plan into parts (src/parts/partition.ts): largest first into the lightest part, at
// most maxFiles files a part, a file's names together, the same parts for the same listing.
import { describe, expect, it } from 'vitest';
import { partition, type PartitionItem } from '../../src/parts/partition.js';

const file = (bytes: number, files = 1): PartitionItem => ({ bytes, files });

function partsOf(items: PartitionItem[], parts: number, maxFiles = 1_000_000): number[][] {
  const split = partition(items, { parts, maxFiles });
  if (!('parts' in split)) throw new Error(`refused: ${split.needed} parts needed`);
  return split.parts;
}

const bytesOf = (items: PartitionItem[], part: number[]): number => part.reduce((sum, index) => sum + items[index]!.bytes, 0);
const filesOf = (items: PartitionItem[], part: number[]): number => part.reduce((sum, index) => sum + items[index]!.files, 0);

describe('partition', () => {
  it('puts each item, largest first, into the part with the fewest bytes (LPT)', () => {
    const items = [file(5), file(7), file(3), file(8), file(2), file(6)];
    const parts = partsOf(items, 2);
    // 8→0, 7→1, 6→1 (7<8), 5→0 (8<13), 3→0 (13=13, lower index), 2→1.
    expect(parts).toEqual([[3, 0, 2], [1, 5, 4]]);
    expect(parts.map((part) => bytesOf(items, part))).toEqual([16, 15]);
  });

  it('places every item exactly once, and keeps the largest parts within 4/3 of the ideal', () => {
    const items = Array.from({ length: 500 }, (_, i) => file(((i * 7919) % 1000) * 1024 + 1));
    const parts = partsOf(items, 7);
    expect(parts.flat().sort((a, b) => a - b)).toEqual(items.map((_, i) => i));
    const loads = parts.map((part) => bytesOf(items, part));
    const ideal = loads.reduce((a, b) => a + b, 0) / 7;
    expect(Math.max(...loads)).toBeLessThanOrEqual((ideal * 4) / 3);
  });

  it('never puts more than maxFiles files in a part, even where bytes would go there', () => {
    const items = [file(1_000_000), ...Array.from({ length: 9 }, () => file(1))];
    const parts = partsOf(items, 2, 5);
    expect(parts.map((part) => filesOf(items, part))).toEqual([5, 5]);
  });

  it('keeps a multi-name item whole: it skips the lightest part when that has no room for all its names', () => {
    const items = [file(100e6), file(50e6), file(40e6), file(30e6, 2)];
    // 100→0, 50→1, 40→1; the two names fit part 1 (90 MB, 2 files) no more at 3 a part: part 0 takes them.
    expect(partsOf(items, 2, 3)).toEqual([[0, 3], [1, 2]]);
    expect(partsOf(items, 2)).toEqual([[0], [1, 2, 3]]);
  });

  it('refuses when the cap needs more parts than given, naming how many', () => {
    expect(partition(Array.from({ length: 10 }, () => file(1)), { parts: 2, maxFiles: 3 })).toEqual({ needed: 4 });
    // Names kept together can need more than files / cap: 3 items of 2 names at 3 a part need 3 parts.
    expect(partition([file(1, 2), file(1, 2), file(1, 2)], { parts: 1, maxFiles: 3 })).toEqual({ needed: 3 });
  });

  it('puts an item with more names than the cap alone into an empty part', () => {
    const parts = partsOf([file(1, 5), file(1)], 2, 3);
    expect(parts).toEqual([[0], [1]]);
  });

  it('is deterministic: the same items give the same parts, ties in the given order', () => {
    const items = Array.from({ length: 200 }, (_, i) => file(i % 3 === 0 ? 0 : (i % 17) * 100));
    expect(partsOf(items, 5)).toEqual(partsOf(items.map((item) => ({ ...item })), 5));
    const equal = [file(4), file(4), file(4), file(4)];
    expect(partsOf(equal, 2)).toEqual([[0, 2], [1, 3]]);
  });

  it('weighs each file a small file\'s cost besides its bytes: many small files outweigh one of their total size', () => {
    // 1,000 files of 1 KB against one file of 1 MB: the first goes first, alone.
    const parts = partsOf([file(1_000_000), file(1_000_000, 1_000), file(10)], 2, 10_000);
    expect(parts).toEqual([[1], [0, 2]]);
  });

  it('weighs symlinks and special files (0 bytes) as one small file each, so they spread too', () => {
    const parts = partsOf(Array.from({ length: 6 }, () => file(0)), 3);
    expect(parts.map((part) => part.length)).toEqual([2, 2, 2]);
  });

  it('leaves parts empty when there are fewer items than parts', () => {
    expect(partsOf([file(3)], 3)).toEqual([[0], [], []]);
  });
});
