/**
 * The census: what a run will copy, counted ahead of the copy for its progress
 * (files, and bytes from an lstat of each file). The copy's own walk pauses
 * while the pool's backlog is full, so on a big tree it learns its total near
 * the end only, and a large file's size only when a worker reaches it; the
 * census walks the same tree through the same filters, keeps two counts, and
 * usually ends long before the copy. It runs only when someone watches the
 * progress, and only once the copy has run for a second: its walk and its lstat
 * per file cost the parent a few µs a file, which a short copy (or a no-op re-run
 * of a small tree: +15%) would pay for an ETA nobody has time to read.
 *
 * Listing a directory updates its access time, and the copy keeps the one its
 * walk finds: so the census keeps each directory's access time from before its
 * own listing, for the copy's walk to take (takeAccessTime()).
 */
import fs from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { DirectoryEntry } from '../source/entry.js';
import { fsPath, joinRaw, type RawPath } from '../shared/raw-path.js';
import type { Selection } from '../source/selection.js';
import { walk, type ListingFilter } from '../source/walk.js';

/** Entries between turns of the event loop: worker messages wait no longer than this many lstats. */
const SLICE_ENTRIES = 256;
/**
 * After each slice the census rests half as long as the slice took: it takes at most two
 * thirds of a core from the workers, and still knows the totals early (measured on 2 cores:
 * resting twice as long left the ETA out for half of a 4 s run).
 */
const REST_PER_WORK = 0.5;
/** How long a copy runs before the census starts. */
const START_AFTER_MS = 1000;
/** Directories the census may be ahead of the copy's walk (their access times are kept until it gets there). */
const MAX_DIRECTORIES_AHEAD = 50_000;
const WAIT_FOR_WALK_MS = 50;

export interface CensusCount {
  /** Files and symlinks, as the copy counts its jobs. */
  files: number;
  /** Bytes of regular files; a file with several names counts a share of its size under each. */
  bytes: number;
}

type AccessTime = Pick<DirectoryEntry, 'atime' | 'atimeNs'>;

export class Census {
  private readonly accessTimes = new Map<RawPath, AccessTime>();
  private readonly stopping = new AbortController();
  /** Directories the copy's walk has listed; the census keeps no access time for those. */
  private walked = 0;

  constructor(
    private readonly root: RawPath,
    private readonly filter: ListingFilter | null,
    private readonly selection: Selection | null,
    /** Running totals, then the final ones with `complete`. */
    private readonly onCount: (count: CensusCount, complete: boolean) => void,
  ) {}

  /** Counts until the tree is done or stop() is called; never rejects (a census is only for display). */
  async run(): Promise<void> {
    try {
      await delay(START_AFTER_MS, undefined, { signal: this.stopping.signal });
      await this.count();
    } catch {
      // Stopped while waiting, or failed: the progress goes on without totals (the copy reports its own errors).
    }
  }

  stop(): void {
    this.stopping.abort();
    this.accessTimes.clear();
  }

  /**
   * Gives `directory` (as the copy's walk found it) the access time the census found, when
   * that is earlier. Both walks go in the same order, so what the census kept before this
   * directory, the copy's walk has passed (a name rule left it out): it is dropped.
   */
  takeAccessTime(directory: DirectoryEntry): void {
    this.walked++;
    const before = this.accessTimes.get(directory.path);
    if (!before) return;
    for (const path of this.accessTimes.keys()) {
      this.accessTimes.delete(path);
      if (path === directory.path) break;
    }
    if (before.atimeNs < directory.atimeNs) Object.assign(directory, before);
  }

  private async count(): Promise<void> {
    const { root, stopping } = this;
    const count: CensusCount = { files: 0, bytes: 0 };
    let sinceTurn = 0;
    let sliceStart = performance.now();
    let listed = 0;
    for await (const item of walk(root, this.filter, this.selection)) {
      if (stopping.signal.aborted) return;
      if (item.kind !== 'listing') continue;
      const { path, atime, atimeNs } = item.directory;
      if (++listed > this.walked) this.accessTimes.set(path, { atime, atimeNs });
      while (this.accessTimes.size >= MAX_DIRECTORIES_AHEAD && !stopping.signal.aborted) await delay(WAIT_FOR_WALK_MS);
      for (const entry of item.entries) {
        if (entry.kind === 'special') continue;
        count.files++;
        if (entry.kind === 'file') count.bytes += sizeShare(joinRaw(root, entry.path));
        if (++sinceTurn < SLICE_ENTRIES) continue;
        sinceTurn = 0;
        this.onCount(count, false);
        await delay(REST_PER_WORK * (performance.now() - sliceStart));
        if (stopping.signal.aborted) return;
        sliceStart = performance.now();
      }
    }
    if (!stopping.signal.aborted) this.onCount(count, true);
  }
}

/** A file's size, shared among its names (only the first is copied); 0 when it cannot be read, as its copy will fail. */
function sizeShare(path: RawPath): number {
  try {
    const stats = fs.lstatSync(fsPath(path), { throwIfNoEntry: false });
    if (!stats) return 0;
    return stats.nlink > 1 ? stats.size / stats.nlink : stats.size;
  } catch {
    return 0;
  }
}
