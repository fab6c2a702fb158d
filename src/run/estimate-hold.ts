/**
 * Whether an estimate of the time left has held long enough to be shown (estimate.ts): the finish it
 * predicts (now + the time left) must have moved by less than a share of the time left, without a
 * trend, over a share of the run, since the totals became known or the pace changed (a new hold).
 * Called on each progress update, never per file.
 */

/**
 * An estimate is shown once the finishes predicted over this long (a third of the run
 * so far, within the bounds) all lie within HOLD_SHARE of the time left now, or within
 * HOLD_FLOOR_MS near the end, where the clock's steps would be the share. Once shown,
 * it stays while they lie within half as much again: it does not flicker on and off.
 */
const MIN_HOLD_MS = 500;
const MAX_HOLD_MS = 5000;
const HOLD_SHARE_OF_RUN = 0.35;
/** ...or half the time since the totals became known, when shorter: predictions before that are forgotten. */
const HOLD_SHARE_SINCE_KNOWN = 0.5;
const HOLD_SHARE = 0.2;
/**
 * ...and at least this share of the time it predicts (up to MAX_HOLD_MS): half a second of
 * predictions after the totals came, on a loaded machine, held on 28 s left that were 14.
 */
const HOLD_SHARE_OF_ESTIMATE = 0.25;
const HOLD_FLOOR_MS = 250;
const SHOWN_HOLD_FACTOR = 1.5;
/**
 * ...and they must not trend: a finish that moves earlier by a second each second is a rate
 * still climbing (small files 1,500 a second, then 5,000, on a loaded machine), whose estimates
 * stayed within the share for a while, twice as long as the time left.
 */
const MAX_DRIFT = 0.5;

export class EstimateHold {
  /** The finishes predicted lately (elapsed ms + estimate), oldest first; a few per second. */
  private readonly finishes: Array<{ at: number; finish: number }> = [];
  /** Whether the last estimate held. */
  private wasHeld = false;

  constructor(
    /** When the totals became known, or the pace changed: the estimate must hold for a share of the run since. */
    private readonly knownAt = 0,
  ) {}

  /** Records the finish `estimate` predicts; whether those predicted over the hold time all lie near it. */
  held(elapsedMs: number, estimate: number): boolean {
    const finish = elapsedMs + estimate;
    const { finishes } = this;
    finishes.push({ at: elapsedMs, finish });
    const sinceKnown = (elapsedMs - this.knownAt) * HOLD_SHARE_SINCE_KNOWN;
    const hold = Math.min(MAX_HOLD_MS, Math.max(MIN_HOLD_MS, Math.min(elapsedMs * HOLD_SHARE_OF_RUN, sinceKnown), estimate * HOLD_SHARE_OF_ESTIMATE));
    // Keep one prediction at or before the hold's start: it tells the estimate was watched that long.
    while (finishes.length > 1 && finishes[1]!.at <= elapsedMs - hold) finishes.shift();
    if (finishes[0]!.at > elapsedMs - hold) return (this.wasHeld = false);
    const tolerance = Math.max(HOLD_SHARE * estimate, HOLD_FLOOR_MS) * (this.wasHeld ? SHOWN_HOLD_FACTOR : 1);
    const near = finishes.every((earlier) => Math.abs(earlier.finish - finish) <= tolerance);
    this.wasHeld = near && Math.abs(drift(finishes)) <= MAX_DRIFT * (this.wasHeld ? SHOWN_HOLD_FACTOR : 1);
    return this.wasHeld;
  }
}

/** How fast the predicted finish moves, in ms per ms: the slope of a least-squares line through the predictions. */
function drift(finishes: ReadonlyArray<{ at: number; finish: number }>): number {
  const n = finishes.length;
  let sumAt = 0;
  let sumFinish = 0;
  for (const { at, finish } of finishes) {
    sumAt += at;
    sumFinish += finish;
  }
  let covariance = 0;
  let variance = 0;
  for (const { at, finish } of finishes) {
    covariance += (at - sumAt / n) * (finish - sumFinish / n);
    variance += (at - sumAt / n) ** 2;
  }
  return variance > 0 ? covariance / variance : 0;
}
