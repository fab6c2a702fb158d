// The ETA on the shapes of real copies, as bench/eta.mjs --trace logged them (progress updates every
// 100 ms): small files whose rate climbs for seconds, then large files whose bytes go fast into the page
// cache, stall, and go on at the disk's pace; the same on a loaded machine; and the rate of a tree's
// small files jumping about as other processes come and go. Whatever ETA is shown must be within ±30%
// of the time really left (or 150 ms at the very end); where the copy cannot know, none is shown.
import { describe, expect, it } from 'vitest';
import { WorkEstimator } from '../../src/run/estimate.js';

/** A stretch of the copy: `files` small files, or `mb` MB of large files, at a rate that may change as it goes. */
type Phase = { files: number; perS: (sinceStartS: number) => number } | { mb: number; perS: (sinceStartS: number) => number };

interface Shape {
  phases: Phase[];
  /**
   * When the census has counted the bytes, the walk done before: until then, large files not met yet are
   * unknown; then, as Progress has it, the estimator is told the totals are known.
   */
  censusAtMs: number;
  /** When the copy's walk ended (Progress tells the estimator); never, if not given. */
  walkDoneAtMs?: number;
  /** Rates vary by up to this share either way, from one update to the next. */
  noise: number;
}

interface Shown {
  atMs: number;
  etaMs: number | undefined;
  leftMs: number;
}

/** Plays the shape in updates of 100 ms, as Progress feeds the estimator; what was shown at each, and the time really left. */
function play({ phases, censusAtMs, walkDoneAtMs = Infinity, noise }: Shape): { shown: Shown[]; totalMs: number } {
  let seed = 7;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const totalFiles = phases.reduce((sum, p) => sum + ('files' in p ? p.files : 0), 0);
  const totalMb = phases.reduce((sum, p) => sum + ('mb' in p ? p.mb : 0), 0);
  const samples: Array<{ atMs: number; files: number; mb: number }> = [];
  let atMs = 0;
  let files = 0;
  let mb = 0;
  for (const phase of phases) {
    const startMs = atMs;
    const target = 'files' in phase ? files + phase.files : mb + phase.mb;
    while ((('files' in phase ? files : mb) as number) < target) {
      atMs += 100;
      const step = (phase.perS((atMs - startMs) / 1000) / 10) * (1 + noise * (2 * random() - 1));
      if ('files' in phase) files = Math.min(target, files + Math.round(step));
      else mb = Math.min(target, mb + step);
      samples.push({ atMs, files, mb });
    }
  }
  const estimator = new WorkEstimator();
  let known = false;
  let walked = false;
  const shown = samples.map((sample) => {
    if (!walked && sample.atMs >= walkDoneAtMs) {
      estimator.walkDone(sample.atMs);
      walked = true;
    }
    if (!known && sample.atMs >= censusAtMs) {
      estimator.totalsKnown(sample.atMs);
      known = true;
    }
    estimator.add({ elapsedMs: sample.atMs, filesDone: sample.files, largeBytesDone: sample.mb * 1e6 });
    const left = { files: totalFiles - sample.files, largeBytes: (totalMb - sample.mb) * 1e6, largeKnown: sample.atMs >= censusAtMs };
    return { atMs: sample.atMs, etaMs: estimator.eta(sample.atMs, left), leftMs: atMs - sample.atMs };
  });
  return { shown, totalMs: atMs };
}

function expectNoneWrong(shown: Shown[]): void {
  for (const { atMs, etaMs, leftMs } of shown) {
    if (etaMs === undefined) continue;
    expect(Math.abs(etaMs - leftMs), `at ${atMs} ms: ETA ${Math.round(etaMs)} ms, really ${leftMs} ms`).toBeLessThanOrEqual(Math.max(0.3 * leftMs, 150));
  }
}

/** What was shown at `fraction` of the run (the last update before it, as the bench reads it). */
function at(shown: Shown[], totalMs: number, fraction: number): Shown {
  return shown.findLast((s) => s.atMs <= fraction * totalMs)!;
}

/** Small files climbing from `from` to `to` a second over `overS` seconds, then steady. */
const climbing = (from: number, to: number, overS: number) => (s: number) => from + (to - from) * Math.min(1, s / overS);

describe('the ETA on the shapes of logged copies', () => {
  it('large files last (150,000 small files, then 2 × 600 MB): none until their bytes are timed, and none wrong', () => {
    // Logged on the bench's image: 1,400 files a second climbing to 20,000 over 5 s, then the large files:
    // 1.5 GB/s into the page cache for half a second, a second's stall, then 400 MB/s.
    const { shown, totalMs } = play({
      phases: [
        { files: 150_000, perS: climbing(1400, 20_000, 5) },
        { mb: 750, perS: () => 1500 },
        { mb: 0.01, perS: () => 0.01 },
        { mb: 450, perS: () => 400 },
      ],
      censusAtMs: 1500,
      noise: 0.25,
    });
    expect(totalMs).toBeGreaterThan(12_000);
    expectNoneWrong(shown);
    // At a quarter, half and three quarters of the run the large files were still to come: no ETA.
    for (const fraction of [0.25, 0.5, 0.75]) expect(at(shown, totalMs, fraction).etaMs, `at ${fraction}`).toBeUndefined();
  });

  it('on a slow, erratic file system (20,000 small files at 500 climbing to 15,000 a second, then 2 × 300 MB at 150 MB/s): none wrong', () => {
    const { shown } = play({
      phases: [
        { files: 20_000, perS: (s) => Math.min(15_000, 500 * 2 ** s) },
        { mb: 600, perS: () => 150 },
      ],
      censusAtMs: 1200,
      noise: 0.5,
    });
    expectNoneWrong(shown);
  });

  it('large files first (2 × 600 MB at 400 MB/s, then 150,000 small files at 18,000 a second): shown from half the run, and true', () => {
    const { shown, totalMs } = play({
      phases: [
        { mb: 1200, perS: () => 400 },
        { files: 150_000, perS: () => 18_000 },
      ],
      censusAtMs: 1200,
      noise: 0.15,
    });
    expectNoneWrong(shown);
    for (const fraction of [0.5, 0.75]) expect(at(shown, totalMs, fraction).etaMs, `at ${fraction}`).toBeDefined();
  });

  it('small files at a steady rate on a loaded machine (150,000 at 3,300 a second, ±30%): shown from a quarter of the run, and true', () => {
    const { shown, totalMs } = play({ phases: [{ files: 150_000, perS: climbing(50, 3300, 4) }], censusAtMs: 3000, noise: 0.3 });
    expectNoneWrong(shown);
    for (const fraction of [0.25, 0.5, 0.75]) expect(at(shown, totalMs, fraction).etaMs, `at ${fraction}`).toBeDefined();
  });

  it('a rate that jumps about as other processes come and go (a mixed tree: 1,600 to 4,000 files a second): absent or true', () => {
    // Logged on the mixed corpus with the machine's load average at 13, a second each; here counted from the start.
    const rates = [300, 700, 1000, 1100, 1700, 2500, 3600, 4000, 1600, 3800, 2100, 2900, 3700, 1500];
    const { shown } = play({ phases: [{ files: 32_000, perS: (s) => rates[Math.floor(s) % rates.length]! }], censusAtMs: 1500, noise: 0.2 });
    expectNoneWrong(shown);
  });

  it('small files slowed while the walk and the census run (32,000: up to 2,500 a second for 3.5 s, then 8,000): none before the totals are known, and none wrong', () => {
    // Logged on the mixed corpus under --load: 1,500–5,000 files a second until the parent's walk and census
    // were done, then 5,000–10,000 (without a census, 10,000 from the walk's end).
    const { shown, totalMs } = play({
      phases: [
        { files: 6500, perS: climbing(300, 2500, 2) },
        { files: 25_500, perS: () => 8000 },
      ],
      censusAtMs: 3500,
      noise: 0.4,
    });
    expectNoneWrong(shown);
    for (const s of shown) if (s.atMs < 3500) expect(s.etaMs, `at ${s.atMs} ms`).toBeUndefined();
    expect(totalMs).toBeGreaterThan(6000);
  });

  it('large files first, then small files slowed until the census is done (2 × 300 MB, 20,000 files): none wrong (the estimate that held on the slow pace was +190% when the totals came)', () => {
    // The default tree with large files handed ahead of the small ones: met a second in, copied at 600 MB/s
    // into the page cache, then the small files at 3,000 a second until the census, 9,000 after.
    const { shown, totalMs } = play({
      phases: [
        { files: 2000, perS: climbing(300, 3000, 1) },
        { mb: 600, perS: () => 600 },
        { files: 6000, perS: () => 3000 },
        { files: 12_000, perS: () => 9000 },
      ],
      censusAtMs: 4100,
      noise: 0.4,
    });
    expectNoneWrong(shown);
    expect(totalMs).toBeGreaterThan(5000);
  });
  it('small files slowed while the walk runs, three times as fast after, the census done soon after the walk (32,000 files): true, and shown at three quarters of the run', () => {
    // The mixed corpus under load: 1,500–4,500 files a second while the copy's walk ran, 6,000–15,000 after; once
    // the walk is done the census only sizes, and sizes the tree within a second.
    const { shown, totalMs } = play({
      phases: [
        { files: 7000, perS: climbing(500, 2500, 1) },
        { files: 25_000, perS: () => 7500 },
      ],
      walkDoneAtMs: 3300,
      censusAtMs: 4000,
      noise: 0.3,
    });
    expectNoneWrong(shown);
    expect(totalMs).toBeGreaterThan(6000);
    expect(at(shown, totalMs, 0.75).etaMs).toBeDefined();
  });
  it('a rate that climbs on after the totals are known (32,000 files: 300 a second, then 800 climbing to 6,000 over 10 s): none wrong', () => {
    // The mixed corpus with the load average at 15: the census sized the tree 13 s after the walk, while the small
    // files went ever faster: estimates that had stayed within a fifth of each other for half a second were +117%.
    const { shown } = play({
      phases: [
        { files: 4500, perS: () => 300 },
        { files: 27_500, perS: climbing(800, 6000, 10) },
      ],
      walkDoneAtMs: 7000,
      censusAtMs: 19_800,
      noise: 0.2,
    });
    expectNoneWrong(shown);
  });
});
