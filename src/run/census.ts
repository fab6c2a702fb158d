/**
 * The census: what a run will copy, counted ahead of the copy for its progress.
 * The copy's own walk pauses while the pool's backlog is full, so on a big tree
 * it learns its total near the end only, and a large file's size only when a
 * worker reaches it. The census walks the same tree through the same filters,
 * keeping nothing but counts, twice: first it counts files (a walk costs under
 * 1 µs a file), then it stats each for its size (source/tree-stats.ts: about
 * 3 µs more a file), so the total is known early and the bytes follow. It runs only when someone watches
 * the progress, and only once the copy has run for a second: a short copy (or a
 * no-op re-run of a small tree: +15%) would pay for an ETA nobody has time to read.
 * Once the copy's walk is done, its count is exact: the census's own count is
 * skipped (or cut short), and it goes straight to the sizes. A large file it sizes
 * is told at once (onLarge), for the copy to send ahead of the small files queued:
 * met where the walk put it, its bytes were timed at 60–90% of a run, and until they
 * are no ETA can be shown (their pace is no guess).
 *
 * Listing a directory updates its access time, and the copy keeps the one its
 * walk finds: so the first pass keeps each directory's access time from before
 * its own listing, for the copy's walk to take (takeAccessTime()).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { DirectoryEntry } from '../source/entry.js';
import { LARGE_FILE_BYTES } from '../shared/jobs.js';
import { S_IFMT, S_IFREG } from '../shared/native.js';
import type { RawPath } from '../shared/raw-path.js';
import { treeStats, type TreeStats } from '../source/tree-stats.js';
import { walk, type WalkOptions } from '../source/walk.js';

/** Work between turns of the event loop: worker messages wait no longer than this. */
const SLICE_MS = 1;
/**
 * After each slice the census rests as long as the slice took: it takes at most half a
 * core, and leaves the parent free for its workers at least half of the time. Once the
 * copy's walk is done, the parent only answers its workers (a few µs a file): the census
 * works in longer slices (a timer waits a millisecond at least) and rests a quarter as
 * long, to size the tree before most of the copy is over.
 */
const REST_PER_WORK = 1;
const SLICE_MS_WALK_DONE = 4;
const REST_PER_WORK_WALK_DONE = 0.25;
/** How long a copy runs before the census starts (half a second cost a no-op re-run of 50,000 files 5%). */
const START_AFTER_MS = 1000;
/** Directories the census may be ahead of the copy's walk (their access times are kept until it gets there). */
const MAX_DIRECTORIES_AHEAD = 50_000;
const WAIT_FOR_WALK_MS = 50;

export interface CensusCount {
  /** Files and symlinks, as the copy counts its jobs. */
  files: number;
  /** Bytes of regular files, once the second pass is done; a file with several names counts a share of its size under each. */
  bytes?: number;
}

type AccessTime = Pick<DirectoryEntry, 'atime' | 'atimeNs'>;

export interface CensusListeners {
  /** The whole tree's count: files after the first pass, then files and bytes after the second. */
  onCount: (count: CensusCount) => void;
  /** A regular file of LARGE_FILE_BYTES or more, by its path in the tree, as the second pass sizes it. */
  onLarge?: (path: RawPath) => void;
}

export class Census {
  private readonly accessTimes = new Map<RawPath, AccessTime>();
  private readonly stopping = new AbortController();
  /** Directories the copy's walk has listed; the census keeps no access time for those. */
  private walked = 0;
  /** When the census last rested. */
  private sliceStart = 0;
  /** The copy's walk is done: its count is exact, and the census only sizes. */
  private walkFinished = false;

  constructor(
    private readonly root: RawPath,
    private readonly walkOptions: WalkOptions,
    private readonly listeners: CensusListeners,
  ) {}

  /** Counts until the tree is done or stop() is called; never rejects (a census is only for display). */
  async run(): Promise<void> {
    try {
      await delay(START_AFTER_MS, undefined, { signal: this.stopping.signal });
      const files = this.walkFinished ? undefined : await this.pass(false);
      if (this.stopping.signal.aborted) return;
      if (files) this.listeners.onCount({ files: files.files });
      const sized = await this.pass(true);
      if (sized) this.listeners.onCount(sized);
    } catch {
      // Stopped while waiting, or failed: the progress goes on without totals (the copy reports its own errors).
    }
  }

  /** The copy's walk is done: a count would tell nothing new. */
  walkDone(): void {
    this.walkFinished = true;
    this.accessTimes.clear();
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

  /** One walk of the tree: files counted, with their bytes when `sizes`; undefined once stopped, or when counting once the copy's walk is done. */
  private async pass(sizes: boolean): Promise<Required<CensusCount> | undefined> {
    const { root, stopping } = this;
    const count = { files: 0, bytes: 0 };
    let listed = 0;
    const stats = sizes ? treeStats(root) : null;
    this.sliceStart = performance.now();
    try {
      for await (const item of walk(root, this.walkOptions)) {
        if (stopping.signal.aborted) return undefined;
        if (item.kind !== 'listing') continue;
        if (!stats) {
          if (this.walkFinished) return undefined;
          const { path, atime, atimeNs } = item.directory;
          if (++listed > this.walked) this.accessTimes.set(path, { atime, atimeNs });
          while (this.accessTimes.size >= MAX_DIRECTORIES_AHEAD && !stopping.signal.aborted) await delay(WAIT_FOR_WALK_MS);
        }
        for (let i = 0; i < item.entries.length; i++) {
          const entry = item.entries[i]!;
          if (entry.kind === 'special') continue;
          count.files++;
          if (stats && entry.kind === 'file') count.bytes += this.sizeShare(stats, item.directory.path, entry.path);
          // Within a directory too: sizing one of 100,000 files at once would hold the event loop for a third of a second.
          if (i % 256 === 255 && this.restDue()) await this.rest();
        }
        if (this.restDue()) await this.rest();
        if (stopping.signal.aborted) return undefined;
      }
    } finally {
      stats?.close();
    }
    return stopping.signal.aborted ? undefined : count;
  }

  /** A slice of work is done (a timer's least wait is about a millisecond, so slices are not tiny). */
  private restDue(): boolean {
    return performance.now() - this.sliceStart >= (this.walkFinished ? SLICE_MS_WALK_DONE : SLICE_MS);
  }

  /** A rest in proportion to the slice; only then does the census await, not once per directory. */
  private async rest(): Promise<void> {
    await delay((this.walkFinished ? REST_PER_WORK_WALK_DONE : REST_PER_WORK) * (performance.now() - this.sliceStart));
    this.sliceStart = performance.now();
  }

  /** A file's size, shared among its names (only the first is copied); 0 when it cannot be read, or is no longer a file, as its copy will fail. A large one is told. */
  private sizeShare(stats: TreeStats, directory: RawPath, path: RawPath): number {
    const found = stats.entry(directory, path);
    if (!found || (found.mode & S_IFMT) !== S_IFREG) return 0;
    if (found.size >= LARGE_FILE_BYTES) this.listeners.onLarge?.(path);
    return found.nlink > 1 ? found.size / found.nlink : found.size;
  }
}
