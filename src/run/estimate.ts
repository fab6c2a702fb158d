/**
 * How long the rest of a copy will take, learned as it runs. Files take two kinds
 * of time: a small file costs about the same as the next (creating it, writing a
 * few kB, setting its metadata), and a large file (sent alone, copied by the kernel)
 * costs its bytes, at the disk's pace. So the time of a copy is modelled with a cost
 * per file and a cost per byte of a large file, fitted by exponentially weighted
 * least squares over the steps between recent samples of (files done, large-file
 * bytes done, elapsed time), each step weighing as its work (see add()):
 *
 *     Δt ≈ perFile·Δfiles + perLargeByte·ΔlargeBytes
 *
 * The bytes of small files are their cost per file: fitted as a term of their own,
 * they moved with the files, and the fit swung seconds between the two terms (a
 * mixed tree's cost of a MB went from 1.5 to 22 ms within a second). A step with
 * no large file says nothing of its cost, so each cost is gently pulled towards a
 * prior (a ridge): the direction the samples do not tell keeps its prior.
 *
 * A prior is a guess, and no ETA is shown that owes much to one: large files are
 * copied when a worker meets them, often last, and their bytes went here at 130 MB/s
 * to 1.6 GB/s, by load and by how much the page cache still took. Nor is one shown
 * before the census has counted the bytes (a large file not met yet is unknown), nor
 * until the estimate has held: the rate of small files can change for reasons the fit
 * cannot see (tenfold within a run, as the machine's other work let them), so the
 * finish it predicts (now + the time left) must have moved by less than a share of
 * the time left over the last third of the run (or half the time since the totals became
 * known or the copy's walk ended, when the predictions before were made on another pace; what was
 * learned while the walk ran then weighs a tenth). Otherwise there is no ETA rather than a wrong one. No terminal code here: the CLI and library users read snapshots.
 */

import { EstimateHold } from './estimate-hold.js';

/** Where the copy is: what is done. */
export interface WorkSample {
  elapsedMs: number;
  filesDone: number;
  /** Bytes written to large files, finished or not. */
  largeBytesDone: number;
}

/** What is left. */
export interface WorkLeft {
  /** Files left, of any size. */
  files: number;
  /** Bytes left in large files, those known so far. */
  largeBytes: number;
  /** Every large file left is known (the census has counted the bytes): otherwise no ETA is shown. */
  largeKnown: boolean;
}

// Priors, in ms of the run per file and per MB of a large file: a small file costs 32 µs
// (two workers here take 25–40), and two workers copying large files here wrote 130 MB/s
// to 1.6 GB/s: 500 MB/s, until the first steps inside a large file teach the real rate.
const PRIOR_MS_PER_FILE = 0.032;
const PRIOR_MS_PER_MB = 2;
/** How strongly the priors hold, relative to the weight of the samples in each direction. */
const RIDGE = 0.02;
/** ...and at least as strongly as a step of 1 file, or of 5 MB, would. */
const PRIOR_FILES = 1;
const PRIOR_MB = 5;
/**
 * Weights halve every half the run so far, within these bounds: early on, the first
 * steps (workers warming up) fade fast; later, the fit follows the copy's recent mix.
 */
const MIN_HALF_LIFE_MS = 250;
const MAX_HALF_LIFE_MS = 3000;
/**
 * Steps shorter than this are merged into the next one: timer noise would dominate them. So is a
 * step in which nothing was done: files are confirmed by the batch, up to 256 at once, and a 100 ms
 * update saw 0, 256 or 512 of them; the time of the one with none belongs to the next.
 */
const MIN_STEP_MS = 50;
/** The ETA shown moves towards a new estimate by this fraction per second of run time. */
const SMOOTHING_PER_S = 0.97;
/**
 * An estimate that moves by more than UNMEASURED_SHARE when the cost of a file is
 * PRIOR_DOUBT times its prior (no file timed yet), or when the large files' bytes go
 * at a slow disk's pace (20 MB/s, a USB stick's or a network share's; under load the bench's
 * image went at 60 MB/s) while less than LARGE_TIMED_MB of them are written, owes too much
 * to a guess, and is not shown.
 */
const PRIOR_DOUBT = 10;
const UNMEASURED_SHARE = 0.25;
const LARGE_TIMED_MB = 64;
const SLOW_DISK_MS_PER_MB = 50;
/**
 * Too early to know: an estimate is shown once the run is, by its own account, this
 * far through. On the copies whose rate rose tenfold as they went, the estimates that
 * held early were 2–9 times too long: by their own account, such runs had barely begun.
 */
const MIN_RUN_SHARE = 0.2;
/** What the steps timed while the copy's walk ran weigh once it is done (walkDone()): an estimate on that pace was 2–4 times too long. */
const BEFORE_WALK_DONE_WEIGHT = 0.1;
const MB = 1e6;

export class WorkEstimator {
  // Weighted sums of the normal equations (time in ms, bytes in MB).
  private sff = 0;
  private sfb = 0;
  private sbb = 0;
  private sft = 0;
  private sbt = 0;
  private last: WorkSample | undefined;
  /** The estimate, smoothed, shown or not: the percent's measure (smoothedEta()). */
  private smoothed: number | undefined;
  private etaAt = 0;
  /** Whether the estimate has held long enough to be shown (estimate-hold.ts). */
  private hold = new EstimateHold();
  /** The ETA shown by the last eta(), smoothed since it was first shown; undefined when none was. */
  private shown: number | undefined;

  /**
   * The totals are known (the census has sized the tree), or the pace changed (walkDone()): an ETA must hold from here on.
   * Before, the parent also counted the tree (and often listed it), and the copy's pace was
   * another (a mixed tree under load: 1,500–5,000 files a second, 5,000–10,000 after); with large
   * files timed early, an estimate that had held on that pace was shown at once, three times too long.
   */
  totalsKnown(elapsedMs: number): void {
    this.hold = new EstimateHold(elapsedMs);
    this.shown = undefined;
  }

  /** The copy's walk is done: the parent no longer lists, and small files went 3–5 times as fast after (a mixed tree, loaded). */
  walkDone(elapsedMs: number): void {
    this.sff *= BEFORE_WALK_DONE_WEIGHT;
    this.sfb *= BEFORE_WALK_DONE_WEIGHT;
    this.sbb *= BEFORE_WALK_DONE_WEIGHT;
    this.sft *= BEFORE_WALK_DONE_WEIGHT;
    this.sbt *= BEFORE_WALK_DONE_WEIGHT;
    this.totalsKnown(elapsedMs);
  }

  /** Adds a sample; samples before the first file or byte is done (workers starting) teach nothing. */
  add(sample: WorkSample): void {
    const last = this.last;
    if (!last) {
      // Steps are timed from the first sample with work done: before it, the workers were starting.
      if (sample.filesDone > 0 || sample.largeBytesDone > 0) this.last = sample;
      return;
    }
    const dt = sample.elapsedMs - last.elapsedMs;
    const df = sample.filesDone - last.filesDone;
    const db = (sample.largeBytesDone - last.largeBytesDone) / MB;
    const work = df * PRIOR_MS_PER_FILE + db * PRIOR_MS_PER_MB;
    if (dt < MIN_STEP_MS || !(work > 0)) return;
    this.last = sample;
    const halfLife = Math.min(MAX_HALF_LIFE_MS, Math.max(MIN_HALF_LIFE_MS, sample.elapsedMs / 2));
    const decay = Math.pow(0.5, dt / halfLife);
    // Each step weighs as its work (at the priors' costs), not as its work squared: a plain least-squares
    // fit leans on the steps that did the most, and where the rate jitters (batches, load) those are the
    // fastest ones: it made the cost of a file 30–60% too low. So weighted, a cost is the time of the steps
    // over their work.
    const weight = 1 / work;
    this.sff = this.sff * decay + weight * df * df;
    this.sfb = this.sfb * decay + weight * df * db;
    this.sbb = this.sbb * decay + weight * db * db;
    this.sft = this.sft * decay + weight * df * dt;
    this.sbt = this.sbt * decay + weight * db * dt;
  }

  /** The fitted costs: ms per file, ms per byte of a large file; never negative. The priors are a test's own in eta(). */
  costs(priorMsPerFile = PRIOR_MS_PER_FILE, priorMsPerMb = PRIOR_MS_PER_MB): { msPerFile: number; msPerByte: number } {
    // Each prior also holds as if backed by a few observations of its own: a step that barely
    // moves a large file must not make 1 MB cost seconds.
    // (A step of n files alone adds n²/work = n / PRIOR_MS_PER_FILE to sff.)
    const la = RIDGE * this.sff + PRIOR_FILES / PRIOR_MS_PER_FILE;
    const lb = RIDGE * this.sbb + PRIOR_MB / PRIOR_MS_PER_MB;
    // Ridge normal equations: (S + Λ) x = s + Λ x0.
    const a11 = this.sff + la;
    const a12 = this.sfb;
    const a22 = this.sbb + lb;
    const r1 = this.sft + la * priorMsPerFile;
    const r2 = this.sbt + lb * priorMsPerMb;
    const det = a11 * a22 - a12 * a12;
    let perFile = (r1 * a22 - a12 * r2) / det;
    let perMb = (a11 * r2 - a12 * r1) / det;
    // A negative cost is noise: refit the other term alone.
    if (!(perFile >= 0)) {
      perFile = 0;
      perMb = this.sbb > 0 ? (this.sbt + lb * priorMsPerMb) / a22 : priorMsPerMb;
    } else if (!(perMb >= 0)) {
      perMb = 0;
      perFile = this.sff > 0 ? (this.sft + la * priorMsPerFile) / a11 : priorMsPerFile;
    }
    return { msPerFile: perFile, msPerByte: perMb / MB };
  }

  /** Estimated ms of work in `files` files and `largeBytes` bytes of large files (with the priors given, for eta()'s doubt). */
  cost(files: number, largeBytes: number, priorMsPerFile?: number, priorMsPerMb?: number): number {
    const { msPerFile, msPerByte } = this.costs(priorMsPerFile, priorMsPerMb);
    return msPerFile * files + msPerByte * largeBytes;
  }

  /** Undefined until a step has been measured. */
  hasData(): boolean {
    return this.sff + this.sbb > 0;
  }

  /**
   * The ETA to show at `elapsedMs`, or undefined while the estimate has not held
   * (see above): once shown, it moves smoothly from the one shown before (which has
   * counted down since) to each new estimate, so it converges without jumps.
   * Called on each progress update, never per file.
   */
  eta(elapsedMs: number, left: WorkLeft): number | undefined {
    if (!this.hasData()) return undefined;
    if (left.files === 0 && left.largeBytes === 0) {
      this.smoothed = 0;
      this.etaAt = elapsedMs;
      return 0;
    }
    const estimate = this.cost(left.files, left.largeBytes);
    const doubt = Math.max(this.cost(left.files, left.largeBytes, PRIOR_MS_PER_FILE * PRIOR_DOUBT), this.largeDoubt(estimate, left));
    const dt = Math.max(0, elapsedMs - this.etaAt);
    this.smoothed = this.smoothed === undefined ? estimate : towards(this.smoothed, estimate, dt);
    this.etaAt = elapsedMs;
    // The estimate itself must have held: the ETA shown, smoothed, counts down steadily even while it is wrong.
    const known = doubt - estimate <= UNMEASURED_SHARE * estimate && elapsedMs >= MIN_RUN_SHARE * (elapsedMs + estimate);
    const show = this.hold.held(elapsedMs, estimate) && known;
    // The first ETA shown is the estimate itself, not what the percent's smoothing still carries from guesses no longer made.
    this.shown = !show ? undefined : this.shown === undefined ? estimate : towards(this.shown, estimate, dt);
    return this.shown;
  }

  /** The estimate if the large files' bytes left, not timed yet, went at a slow disk's pace; the estimate once they are timed. */
  private largeDoubt(estimate: number, left: WorkLeft): number {
    if (!left.largeKnown) return Infinity;
    if ((this.last?.largeBytesDone ?? 0) >= LARGE_TIMED_MB * MB) return estimate;
    return estimate + (left.largeBytes / MB) * SLOW_DISK_MS_PER_MB;
  }

  /** The smoothed estimate as of the last eta(), shown or not: the run's percent follows it without a jump. */
  smoothedEta(): number | undefined {
    return this.smoothed;
  }
}

/** A smoothed estimate `dtMs` later: the last one counted down, moved towards the new one by SMOOTHING_PER_S a second. */
function towards(previous: number, estimate: number, dtMs: number): number {
  const counted = Math.max(0, previous - dtMs);
  return counted + (estimate - counted) * (1 - Math.pow(1 - SMOOTHING_PER_S, dtMs / 1000));
}
