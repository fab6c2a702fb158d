/**
 * Folds copy events into counters and hands out throttled snapshots.
 * No terminal code here: the CLI's renderer and library users both read snapshots.
 */
import type { Job } from '../shared/jobs.js';
import { pathText, type RawPath } from '../shared/raw-path.js';
import type { CopyProgress } from './types.js';

// Each file costs about as much as this many bytes (creating it, setting its metadata),
// so the percent and ETA track time, not only files; large files weigh in by their
// size as soon as a worker has found it.
const BYTES_PER_FILE_EQUIVALENT = 32 * 1024;
const PROGRESS_INTERVAL_MS = 100;

export class Progress {
  private filesTotal = 0;
  private filesDone = 0;
  private bytesConfirmed = 0;
  /** Large files in flight: their size, and the bytes written so far. */
  private readonly large = new Map<Job, { size: number; written: number }>();
  private bytesShown = 0;
  private percentShown = 0;
  private listing = true;
  private current: RawPath | undefined;
  private lastEmit = 0;
  private readonly startedAt = performance.now();

  constructor(private readonly listener: ((progress: CopyProgress) => void) | undefined) {}

  planned(jobs = 1): void {
    this.filesTotal += jobs;
    this.maybeEmit();
  }

  listingDone(): void {
    this.listing = false;
    this.emit();
  }

  /** A large file, sent alone, whose size a worker found. */
  sized(job: Job, size: number): void {
    this.large.set(job, { size, written: 0 });
  }

  /** `bytesWritten` is the file's size if it was written, else 0. */
  finished(job: Job, bytesWritten: number): void {
    this.filesDone++;
    this.bytesConfirmed += bytesWritten;
    // Only large files are in the map; most jobs skip the lookup.
    if (this.large.size > 0) this.large.delete(job);
    this.current = job.path;
    this.maybeEmit();
  }

  fileProgress(job: Job, bytes: number): void {
    const file = this.large.get(job);
    if (file) file.written = bytes;
    this.current = job.path;
    this.maybeEmit();
  }

  snapshot(): CopyProgress {
    let bytesDone = this.bytesConfirmed;
    let bytesAhead = this.bytesConfirmed;
    for (const file of this.large.values()) {
      bytesDone += Math.min(file.written, file.size);
      bytesAhead += file.size;
    }
    this.bytesShown = Math.max(this.bytesShown, bytesDone);
    const work = bytesAhead + this.filesTotal * BYTES_PER_FILE_EQUIVALENT;
    const workDone = bytesDone + this.filesDone * BYTES_PER_FILE_EQUIVALENT;
    if (!this.listing) this.percentShown = Math.max(this.percentShown, work === 0 ? 100 : Math.min(100, (100 * workDone) / work));
    return {
      filesDone: this.filesDone,
      filesTotal: this.filesTotal,
      bytesDone: this.bytesShown,
      listing: this.listing,
      percent: this.percentShown,
      currentPath: this.current === undefined ? undefined : pathText(this.current),
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
