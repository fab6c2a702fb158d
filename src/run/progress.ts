/**
 * Folds copy events into counters and hands out throttled snapshots.
 * No terminal code here: the CLI's renderer and library users both read snapshots.
 */
import type { Job } from '../shared/jobs.js';
import { pathText, type RawPath } from '../shared/raw-path.js';
import type { CensusCount } from './census.js';
import { WorkEstimator } from './estimate.js';
import type { CopyProgress } from './types.js';

// The percent and the ETA follow estimated work: a cost per file and a cost per byte of
// a large file, learned as the copy goes (estimate.ts). What is left: the files, and the
// bytes of large files, known once the census (census.ts) has sized the tree: its bytes
// less those of the files finished (scaled by the share of bytes that needed writing so
// far: a re-run writes few), less what the small files left hold at their mean size so
// far. Before that, only the large files a worker handed back (sized()) are known, and no
// ETA is shown: any file not met yet may be a large one.
const PROGRESS_INTERVAL_MS = 100;

export class Progress {
  /** Jobs planned so far: the total once the walk is done. */
  private filesPlanned = 0;
  private filesDone = 0;
  /** Bytes written by finished files. */
  private bytesConfirmed = 0;
  /** Source bytes of finished files, written or not. */
  private sourceBytesDone = 0;
  /** The census's count of the whole tree, once it has one. */
  private census: CensusCount | undefined;
  /** Bytes written by large files finished. */
  private largeConfirmed = 0;
  /** Files confirmed that were not sized as large ones, and their bytes written: the mean size of what is not sized yet. */
  private smallDone = 0;
  private smallBytes = 0;
  private readonly estimator = new WorkEstimator();
  /** Large files in flight: their size, and the bytes written so far. */
  private readonly large = new Map<Job, { size: number; written: number }>();
  private bytesShown = 0;
  private percentShown = 0;
  private walking = true;
  /** The census has sized the tree: what is left is known. */
  private settled = false;
  private current: RawPath | undefined;
  private lastEmit = 0;
  private readonly startedAt: number;

  constructor(
    private readonly listener: ((progress: CopyProgress) => void) | undefined,
    /** The clock, in ms; a test's own. */
    private readonly now: () => number = () => performance.now(),
  ) {
    this.startedAt = now();
  }

  planned(jobs = 1): void {
    this.filesPlanned += jobs;
    this.maybeEmit();
  }

  /** The copy's own walk is done: filesTotal is exact. */
  listingDone(): void {
    this.walking = false;
    this.estimator.walkDone(this.now() - this.startedAt);
    this.emit();
  }

  /** The census's count of the whole tree: its files, then its bytes too. */
  counted(count: CensusCount): void {
    this.census = { ...count };
    if (count.bytes !== undefined && !this.settled) {
      // The ETA must hold anew from here (estimate.ts): until now the parent also counted the tree.
      this.settled = true;
      this.estimator.totalsKnown(this.now() - this.startedAt);
    }
    this.emit();
  }

  /** A large file, sent alone, whose size a worker found. */
  sized(job: Job, size: number): void {
    this.large.set(job, { size, written: 0 });
  }

  /** `sourceBytes` is the file's size (0 for a link or a failure); `bytesWritten` the same if it was written, else 0. */
  finished(job: Job, sourceBytes: number, bytesWritten: number): void {
    this.filesDone++;
    this.sourceBytesDone += sourceBytes;
    this.bytesConfirmed += bytesWritten;
    // Only large files are in the map; most jobs skip the lookup.
    if (this.large.size === 0 || !this.large.delete(job)) {
      this.smallDone++;
      this.smallBytes += bytesWritten;
    } else this.largeConfirmed += bytesWritten;
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
    let largeWritten = 0;
    let largeLeft = 0;
    for (const file of this.large.values()) {
      const written = Math.min(file.written, file.size);
      largeWritten += written;
      largeLeft += file.size - written;
    }
    this.bytesShown = Math.max(this.bytesShown, this.bytesConfirmed + largeWritten);
    const elapsedMs = this.now() - this.startedAt;
    const largeBytesDone = this.largeConfirmed + largeWritten;
    this.estimator.add({ elapsedMs, filesDone: this.filesDone, largeBytesDone });
    const { census } = this;
    // Until the copy's walk ends, the census (when complete) knows the total; after, the walk does (and retries add to it).
    const filesTotal = census && this.walking ? Math.max(this.filesPlanned, census.files) : this.filesPlanned;
    const listing = this.walking && !census;
    const filesLeft = Math.max(0, filesTotal - this.filesDone);
    let largeBytes = largeLeft;
    if (census?.bytes !== undefined) {
      const writtenShare = this.sourceBytesDone > 0 ? Math.min(1, this.bytesConfirmed / this.sourceBytesDone) : 1;
      const bytesLeft = Math.max(0, census.bytes - this.sourceBytesDone - largeWritten) * writtenShare;
      // What the small files left do not hold, at their mean size so far, is in large files no worker has met yet.
      const smallLeft = Math.max(0, filesLeft - this.large.size) * (this.smallDone > 0 ? this.smallBytes / this.smallDone : 0);
      largeBytes = Math.max(largeLeft, bytesLeft - smallLeft);
    }
    const left = { files: filesLeft, largeBytes, largeKnown: census?.bytes !== undefined };
    let etaMs: number | undefined;
    if (!listing) {
      etaMs = this.estimator.eta(elapsedMs, left);
      // Shown or not (an ETA is shown only once it holds), the estimate is the percent's measure.
      const estimate = this.estimator.smoothedEta();
      let percent: number;
      if (left.files === 0 && left.largeBytes === 0) percent = 100;
      else if (estimate !== undefined && elapsedMs > 0) {
        // Time is the work's measure: the share of the estimated run that has passed, as smooth as the ETA.
        percent = (100 * elapsedMs) / (elapsedMs + estimate);
      } else {
        // Nothing timed yet: the work done and left, weighed by the estimator's priors.
        const done = this.estimator.cost(this.filesDone, largeBytesDone);
        const rest = this.estimator.cost(left.files, left.largeBytes);
        percent = done + rest > 0 ? (100 * done) / (done + rest) : 0;
      }
      this.percentShown = Math.max(this.percentShown, Math.min(100, percent));
    }
    return {
      filesDone: this.filesDone,
      filesTotal,
      bytesDone: this.bytesShown,
      listing,
      totalsKnown: this.settled,
      percent: this.percentShown,
      // Whole milliseconds, as --json gives them: the clock's fractions are noise to a caller.
      etaMs: etaMs === undefined ? undefined : Math.round(etaMs),
      currentPath: this.current === undefined ? undefined : pathText(this.current),
      elapsedMs: Math.round(elapsedMs),
    };
  }

  /** The last snapshot, always delivered, however recent the previous one. */
  emit(): void {
    this.lastEmit = this.now();
    this.listener?.(this.snapshot());
  }

  private maybeEmit(): void {
    if (!this.listener) return;
    if (this.now() - this.lastEmit >= PROGRESS_INTERVAL_MS) this.emit();
  }
}
