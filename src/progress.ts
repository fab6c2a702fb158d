/**
 * Folds copy events into counters and hands out throttled snapshots.
 * No terminal code here: the CLI's renderer and library users both read snapshots.
 */
import type { Job } from './protocol.js';
import { displayPath, type RawPath } from './raw-path.js';

export interface CopyProgress {
  /** Files, symlinks and hard links finished (copied or failed). */
  filesDone: number;
  /** Grows while `listing` is true. */
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** The tree is still being listed: totals are lower bounds. */
  listing: boolean;
  /** 0 while listing (the total is not known yet); after that it only goes up. */
  percent: number;
  /** The entry most recently worked on, relative to the source. */
  currentPath: string | undefined;
  elapsedMs: number;
}

// Each file costs about as much as this many bytes (creating it, setting its metadata),
// so trees of small files get a percent and ETA that track time, not only bytes.
const BYTES_PER_FILE_EQUIVALENT = 32 * 1024;
export const PROGRESS_INTERVAL_MS = 100;

export class Progress {
  private filesTotal = 0;
  private bytesTotal = 0;
  private filesDone = 0;
  private bytesConfirmed = 0;
  /** Bytes written so far of large files still in flight. */
  private readonly partial = new Map<Job, number>();
  private bytesShown = 0;
  private percentShown = 0;
  private listing = true;
  private current: RawPath | undefined;
  private lastEmit = 0;
  private readonly startedAt = performance.now();

  constructor(private readonly listener: ((progress: CopyProgress) => void) | undefined) {}

  planned(job: Job): void {
    this.filesTotal++;
    if (job.kind === 'file') this.bytesTotal += job.size;
    this.maybeEmit();
  }

  listingDone(): void {
    this.listing = false;
    this.emit();
  }

  finished(job: Job): void {
    this.filesDone++;
    if (job.kind === 'file') this.bytesConfirmed += job.size;
    // Only large files in flight have partial bytes; most jobs skip the lookup.
    if (this.partial.size > 0) this.partial.delete(job);
    this.current = job.path;
    this.maybeEmit();
  }

  fileProgress(job: Job, bytes: number): void {
    this.partial.set(job, bytes);
    this.current = job.path;
    this.maybeEmit();
  }

  snapshot(): CopyProgress {
    let bytesDone = this.bytesConfirmed;
    for (const bytes of this.partial.values()) bytesDone += bytes;
    this.bytesShown = Math.max(this.bytesShown, Math.min(bytesDone, this.bytesTotal));
    const work = this.bytesTotal + this.filesTotal * BYTES_PER_FILE_EQUIVALENT;
    const workDone = this.bytesShown + this.filesDone * BYTES_PER_FILE_EQUIVALENT;
    if (!this.listing) this.percentShown = Math.max(this.percentShown, work === 0 ? 100 : (100 * workDone) / work);
    return {
      filesDone: this.filesDone,
      filesTotal: this.filesTotal,
      bytesDone: this.bytesShown,
      bytesTotal: this.bytesTotal,
      listing: this.listing,
      percent: this.percentShown,
      currentPath: this.current === undefined ? undefined : displayPath(this.current),
      elapsedMs: performance.now() - this.startedAt,
    };
  }

  /** The last snapshot, always delivered, however recent the previous one. */
  emit(): void {
    this.lastEmit = performance.now();
    this.listener?.(this.snapshot());
  }

  private maybeEmit(): void {
    if (!this.listener) return;
    if (performance.now() - this.lastEmit >= PROGRESS_INTERVAL_MS) this.emit();
  }
}
