/**
 * A plan's listing split into parts (make-plan.ts): the items the partition
 * places (partition.ts), and each part's entries from them. An item is the files
 * of one directory together, so that a part touches few directories: on a tree
 * of small directories (a node_modules), spreading each directory's files over
 * every part made each part make and open nearly every directory, which cost it
 * more than its files did. A directory is cut into chunks of at most a share of
 * the files and of the bytes, so that the parts still balance (a large file is a
 * chunk of its own). All names of a file with several are one item of their own,
 * wherever they are: they must be copied by one part to stay one inode.
 */
import { FoldercopyError } from '../shared/errors.js';
import { parentOf, type RawPath } from '../shared/raw-path.js';
import type { PlannedEntry } from './format.js';
import type { SourceListing } from './list-source.js';
import { partition, type PartitionItem } from './partition.js';

/** Chunks a part gets on average, at least: enough items for largest-first to balance the parts. */
const CHUNKS_PER_PART = 4;

/** An entry as listed, with the device it is on. */
type Listed = SourceListing['entries'][number];

/** Chunks of one file: every file (but the names of one) an item of its own. */
const EACH_FILE = { files: 1, bytes: 0 };

interface Item extends PartitionItem {
  entries: Listed[];
}

/** Each part's entries, sorted by path; a refusal when the file cap needs more parts than asked for. */
export function splitIntoParts(listing: SourceListing, parts: number, maxFiles: number): PlannedEntry[][] {
  const entries = [...listing.entries].sort(byPath);
  let items = itemsOf(entries, chunkLimits(entries, parts, maxFiles));
  let split = partition(items, { parts, maxFiles });
  if ('needed' in split) {
    // Near the file cap, chunks leave room no chunk fits: each file an item of its own packs tightest.
    items = itemsOf(entries, EACH_FILE);
    split = partition(items, { parts, maxFiles });
  }
  if ('needed' in split) {
    throw new FoldercopyError('USAGE', `${entries.length} entries at ${maxFiles} files a part need ${split.needed} parts: give --parts ${split.needed} or more (or a larger --max-part-files)`);
  }
  const placed = items;
  return split.parts.map((indexes) => indexes.flatMap((index) => placed[index]!.entries).sort(byPath));
}

/** The most files and bytes a directory's chunk holds. */
function chunkLimits(entries: readonly Listed[], parts: number, maxFiles: number): { files: number; bytes: number } {
  let bytes = 0;
  for (const entry of entries) bytes += entry.size;
  const chunks = parts * CHUNKS_PER_PART;
  return { files: Math.max(1, Math.min(maxFiles, Math.ceil(entries.length / chunks))), bytes: Math.max(1, bytes / chunks) };
}

/** The items, in the order of their first entry: each directory's chunks, and each multi-name file. */
function itemsOf(entries: readonly Listed[], limits: { files: number; bytes: number }): Item[] {
  const items: Item[] = [];
  const byInode = new Map<string, Item>();
  // The chunk of each directory still taking entries.
  const open = new Map<RawPath, Item>();
  for (const entry of entries) {
    if (entry.type === 'file' && entry.nlink > 1) {
      // A file's names travel together: one item, its size counted once.
      const inode = `${entry.dev}:${entry.ino}`;
      const group = byInode.get(inode);
      if (group) {
        group.entries.push(entry);
        group.files++;
      } else byInode.set(inode, add(items, { bytes: entry.size, files: 1, entries: [entry] }));
      continue;
    }
    const directory = parentOf(entry.path) ?? '';
    let chunk = open.get(directory);
    if (chunk === undefined || chunk.files >= limits.files || chunk.bytes + entry.size > limits.bytes) {
      chunk = add(items, { bytes: 0, files: 0, entries: [] });
      open.set(directory, chunk);
    }
    chunk.entries.push(entry);
    chunk.files++;
    chunk.bytes += entry.size;
  }
  return items;
}

function add(items: Item[], item: Item): Item {
  items.push(item);
  return item;
}

function byPath(a: PlannedEntry, b: PlannedEntry): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
