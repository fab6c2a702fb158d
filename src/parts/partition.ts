/**
 * How a plan's entries are split into parts (make-plan.ts): pure, so that the
 * same listing always gives the same parts. Longest processing time first
 * (LPT): items largest first, each into the part with the fewest bytes so far,
 * skipping parts that hold the most files a part may take. An item is a set of
 * entries (split.ts: a directory's, or all the names of a file with several):
 * it weighs its bytes, a file with several names once, and each entry's fixed cost.
 */

export interface PartitionItem {
  /** Bytes the item costs to copy: its files' sizes (a file with several names once); a symlink its target's length, a special file 0. */
  bytes: number;
  /** Entries it holds: one, or every name of a multi-name file. */
  files: number;
}

export interface PartitionLimits {
  parts: number;
  /** The most files a part may hold; an item with more names than this goes alone into an empty part. */
  maxFiles: number;
}

/** Each part's items (indexes into `items`), or the number of parts the file cap needs when `parts` are too few. */
export type Partition = { parts: number[][] } | { needed: number };

// A symlink or special file costs about what the open, write and rename of a small file cost.
const ENTRY_BYTES = 4096;

/**
 * Splits `items` (given in a fixed order, such as by path) into `limits.parts` parts.
 * Deterministic: ties in size keep the items' order, ties in bytes go to the lowest part index.
 */
export function partition(items: readonly PartitionItem[], limits: PartitionLimits): Partition {
  const placed = place(items, limits.parts, limits.maxFiles);
  if (placed) return { parts: placed };
  return { needed: partsNeeded(items, limits) };
}

/** The fewest parts, above those given, into which the items go without breaking the cap. */
function partsNeeded(items: readonly PartitionItem[], { parts, maxFiles }: PartitionLimits): number {
  const files = items.reduce((sum, item) => sum + item.files, 0);
  let needed = Math.max(parts + 1, Math.ceil(files / maxFiles));
  // Names kept together can leave room no item fits; rarely more than a few parts more.
  while (place(items, needed, maxFiles) === null) needed++;
  return needed;
}

function place(items: readonly PartitionItem[], count: number, maxFiles: number): number[][] | null {
  const order = items.map((_, index) => index);
  // Array.prototype.sort is stable: equal weights keep the given order.
  order.sort((a, b) => weight(items[b]!) - weight(items[a]!));
  const parts: number[][] = Array.from({ length: count }, () => []);
  const bytes = new Float64Array(count);
  const files = new Float64Array(count);
  const open = new PartHeap(bytes);
  for (let k = 0; k < count; k++) open.push(k);
  const skipped: number[] = [];
  for (const index of order) {
    const item = items[index]!;
    let k = open.pop();
    // Parts too full for this item stay out of the heap only until it is placed.
    while (k !== undefined && files[k]! > 0 && files[k]! + item.files > maxFiles) {
      skipped.push(k);
      k = open.pop();
    }
    if (k === undefined) return null;
    parts[k]!.push(index);
    bytes[k] = bytes[k]! + weight(item);
    files[k] = files[k]! + item.files;
    if (files[k]! < maxFiles) open.push(k);
    if (skipped.length > 0) {
      for (const back of skipped) open.push(back);
      skipped.length = 0;
    }
  }
  return parts;
}

/** Its bytes, and for each file what the open, write and rename of a small file cost. */
function weight(item: PartitionItem): number {
  return item.bytes + item.files * ENTRY_BYTES;
}

/** A binary heap of part indexes, the fewest bytes first, then the lowest index. */
class PartHeap {
  private readonly heap: number[] = [];

  constructor(private readonly bytes: Float64Array) {}

  push(k: number): void {
    const { heap } = this;
    heap.push(k);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.before(heap[i]!, heap[parent]!)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): number | undefined {
    const { heap } = this;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return top;
    heap[0] = last;
    for (let i = 0; ; ) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && this.before(heap[left]!, heap[least]!)) least = left;
      if (right < heap.length && this.before(heap[right]!, heap[least]!)) least = right;
      if (least === i) return top;
      this.swap(i, least);
      i = least;
    }
  }

  private swap(i: number, j: number): void {
    const { heap } = this;
    const held = heap[i]!;
    heap[i] = heap[j]!;
    heap[j] = held;
  }

  private before(a: number, b: number): boolean {
    const { bytes } = this;
    return bytes[a]! < bytes[b]! || (bytes[a] === bytes[b] && a < b);
  }
}
