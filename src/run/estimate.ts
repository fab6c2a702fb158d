/**
 * How long the rest of a copy will take, learned as it runs. The time of a copy is
 * modelled with two terms, a cost per file (creating it, setting its metadata) and
 * a cost per byte, fitted by exponentially weighted least squares over the steps
 * between recent samples of (files done, bytes done, elapsed time):
 *
 *     Δt ≈ perFile·Δfiles + perByte·Δbytes
 *
 * A step of small files alone says little about each cost apart (files and bytes
 * move together), and a step inside a large file says nothing of the cost per
 * file, so each cost is gently pulled towards a prior (a ridge): the direction the
 * samples do not tell keeps its prior, the one they tell follows them. No terminal
 * code here: the CLI and library users read the result from snapshots.
 */

/** Where the copy is: what is done, and what is known to be left. */
export interface WorkSample {
  elapsedMs: number;
  filesDone: number;
  bytesDone: number;
}

export interface WorkLeft {
  files: number;
  bytes: number;
}

// Priors, in ms of the run per file and per MB: a small file costs 32 µs (two workers
// here take 25–40), and bytes go at the page cache's pace (two workers copying large
// files here write 5 GB/s): writes are cached until the kernel's dirty limit, a few GB,
// and the first step inside a large file teaches the real rate.
const PRIOR_MS_PER_FILE = 0.032;
const PRIOR_MS_PER_MB = 0.2;
/** How strongly the priors hold, relative to the weight of the samples in each direction. */
const RIDGE = 0.02;
/** ...and at least as strongly as a step of 1 file, or of 5 MB, would. */
const PRIOR_FILES_SQUARED = 1;
const PRIOR_MB_SQUARED = 25;
/**
 * Weights halve every half the run so far, within these bounds: early on, the first
 * steps (workers warming up) fade fast; later, the fit follows the copy's recent mix.
 */
const MIN_HALF_LIFE_MS = 250;
const MAX_HALF_LIFE_MS = 3000;
/** Steps shorter than this are merged into the next one: timer noise would dominate them. */
const MIN_STEP_MS = 50;
/** The ETA shown moves towards a new estimate by this fraction per second of run time. */
const SMOOTHING_PER_S = 0.97;
const MB = 1e6;

export class WorkEstimator {
  // Weighted sums of the normal equations (time in ms, bytes in MB).
  private sff = 0;
  private sfb = 0;
  private sbb = 0;
  private sft = 0;
  private sbt = 0;
  private last: WorkSample | undefined;
  private etaShown: number | undefined;
  private etaAt = 0;

  /** Adds a sample; samples before the first file or byte is done (workers starting) teach nothing. */
  add(sample: WorkSample): void {
    const last = this.last;
    if (!last) {
      // Steps are timed from the first sample with work done: before it, the workers were starting.
      if (sample.filesDone > 0 || sample.bytesDone > 0) this.last = sample;
      return;
    }
    const dt = sample.elapsedMs - last.elapsedMs;
    if (dt < MIN_STEP_MS) return;
    const df = sample.filesDone - last.filesDone;
    const db = (sample.bytesDone - last.bytesDone) / MB;
    this.last = sample;
    const halfLife = Math.min(MAX_HALF_LIFE_MS, Math.max(MIN_HALF_LIFE_MS, sample.elapsedMs / 2));
    const decay = Math.pow(0.5, dt / halfLife);
    this.sff = this.sff * decay + df * df;
    this.sfb = this.sfb * decay + df * db;
    this.sbb = this.sbb * decay + db * db;
    this.sft = this.sft * decay + df * dt;
    this.sbt = this.sbt * decay + db * dt;
  }

  /** The fitted costs: ms per file, ms per byte; never negative. */
  costs(): { msPerFile: number; msPerByte: number } {
    // Each prior also holds as if backed by a few observations of its own: a run of tiny
    // files moves bytes too little to say what a byte costs, and must not make 1 MB cost seconds.
    const la = RIDGE * this.sff + PRIOR_FILES_SQUARED;
    const lb = RIDGE * this.sbb + PRIOR_MB_SQUARED;
    // Ridge normal equations: (S + Λ) x = s + Λ x0.
    const a11 = this.sff + la;
    const a12 = this.sfb;
    const a22 = this.sbb + lb;
    const r1 = this.sft + la * PRIOR_MS_PER_FILE;
    const r2 = this.sbt + lb * PRIOR_MS_PER_MB;
    const det = a11 * a22 - a12 * a12;
    let perFile = (r1 * a22 - a12 * r2) / det;
    let perMb = (a11 * r2 - a12 * r1) / det;
    // A negative cost is noise: refit the other term alone.
    if (!(perFile >= 0)) {
      perFile = 0;
      perMb = this.sbb > 0 ? (this.sbt + lb * PRIOR_MS_PER_MB) / a22 : PRIOR_MS_PER_MB;
    } else if (!(perMb >= 0)) {
      perMb = 0;
      perFile = this.sff > 0 ? (this.sft + la * PRIOR_MS_PER_FILE) / a11 : PRIOR_MS_PER_FILE;
    }
    return { msPerFile: perFile, msPerByte: perMb / MB };
  }

  /** Estimated ms of work in `files` files and `bytes` bytes. */
  cost(files: number, bytes: number): number {
    const { msPerFile, msPerByte } = this.costs();
    return msPerFile * files + msPerByte * bytes;
  }

  /** Undefined until a step has been measured. */
  hasData(): boolean {
    return this.sff + this.sbb > 0;
  }

  /**
   * The ETA to show at `elapsedMs`: the new estimate, reached smoothly from the
   * one shown before (which has counted down since), so it converges without jumps.
   */
  eta(elapsedMs: number, left: WorkLeft): number | undefined {
    if (!this.hasData()) return undefined;
    const estimate = this.cost(left.files, left.bytes);
    if (left.files === 0 && left.bytes === 0) {
      this.etaShown = 0;
    } else if (this.etaShown === undefined) {
      this.etaShown = estimate;
    } else {
      const dt = Math.max(0, elapsedMs - this.etaAt);
      const counted = Math.max(0, this.etaShown - dt);
      const weight = 1 - Math.pow(1 - SMOOTHING_PER_S, dt / 1000);
      this.etaShown = counted + (estimate - counted) * weight;
    }
    this.etaAt = elapsedMs;
    return this.etaShown;
  }
}
