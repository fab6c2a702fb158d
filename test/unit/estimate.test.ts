// The ETA and percent of a mixed tree, from a simulated run with a known timeline: many
// small files and two 300 MB files, copied by two workers. Each large file is sized
// when its worker opens it (Progress.sized()), as the pool hands it back; with a census
// (census.ts), the totals are known from the start.
import { describe, expect, it } from 'vitest';
import { WorkEstimator } from '../../src/run/estimate.js';
import { Progress } from '../../src/run/progress.js';
import type { FileJob } from '../../src/shared/jobs.js';
import type { CopyProgress } from '../../src/run/types.js';

// Per worker: a small file costs 0.1 ms and its bytes, large files 400 MB/s (the README's bench machine does 0.07 ms per file and worker).
const MS_PER_FILE = 0.1;
const BYTES_PER_MS = 400_000;
const LARGE = 300_000_000;

interface SimJob {
  job: FileJob;
  size: number;
  large: boolean;
}

/** A deterministic tree: `smallCount` files of 1–8 kB, large files at the given positions of the listing. */
function tree(smallCount: number, largeAt: number[]): SimJob[] {
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const jobs: SimJob[] = [];
  for (let i = 0; i < smallCount; i++) jobs.push({ job: { kind: 'file', path: `d${i % 50}/f${i}` }, size: 1000 + Math.floor(random() * 7000), large: false });
  for (const [n, at] of largeAt.entries()) jobs.splice(at, 0, { job: { kind: 'file', path: `big${n}.iso` }, size: LARGE, large: true });
  return jobs;
}

/** Runs the tree through two simulated workers; returns every snapshot, taken every 100 ms as the CLI receives them. */
function simulate(jobs: SimJob[], census = false): { snapshots: CopyProgress[]; totalMs: number } {
  const workers = 2;
  let now = 0;
  const progress = new Progress(undefined, () => now);
  progress.planned(jobs.length);
  if (census) progress.counted({ files: jobs.length, bytes: jobs.reduce((sum, item) => sum + item.size, 0) });
  progress.listingDone();
  // Events in time order: [time, action].
  const events: Array<[number, () => void]> = [];
  const free = Array.from({ length: workers }, () => 0);
  for (const item of jobs) {
    const w = free.indexOf(Math.min(...free));
    const start = free[w]!;
    const duration = MS_PER_FILE + item.size / BYTES_PER_MS;
    if (item.large) {
      events.push([start, () => progress.sized(item.job, item.size)]);
      for (let t = 50; t < duration; t += 50) events.push([start + t, () => progress.fileProgress(item.job, Math.floor(t * BYTES_PER_MS))]);
    }
    events.push([start + duration, () => progress.finished(item.job, item.size, item.size)]);
    free[w] = start + duration;
  }
  const totalMs = Math.max(...free);
  events.sort((a, b) => a[0] - b[0]);
  const snapshots: CopyProgress[] = [];
  let next = 100;
  for (const [at, action] of events) {
    while (next <= at) {
      now = next;
      snapshots.push(progress.snapshot());
      next += 100;
    }
    now = at;
    action();
  }
  now = totalMs;
  snapshots.push(progress.snapshot());
  return { snapshots, totalMs };
}

function at(snapshots: CopyProgress[], ms: number): CopyProgress {
  return snapshots.reduce((best, s) => (Math.abs(s.elapsedMs - ms) < Math.abs(best.elapsedMs - ms) ? s : best));
}

describe('the ETA and percent of a mixed tree (many small files, two 300 MB files)', () => {
  // Large files first (top-level files are listed before the subdirectories' ones), or one early and one halfway.
  // At the top, both workers spend the first quarter of the run in the large files: no small file has been
  // timed yet at 25%, so the cost per file is still the prior's (32 kB's worth), and no estimate can know better.
  // With a census, the large files' bytes are known from the start, wherever they are listed: last, the ETA
  // would otherwise leave them out until three quarters of the run.
  for (const [name, largeAt, checkpoints, census] of [
    ['one early, one halfway through the listing', [100, 20_000], [0.25, 0.5, 0.75], false],
    ['both at the top of the listing', [0, 1], [0.5, 0.75], false],
    ['both at the end of the listing, counted by the census', [40_000, 40_001], [0.25, 0.5, 0.75], true],
    ['one early, one halfway, counted by the census', [100, 20_000], [0.25, 0.5, 0.75], true],
  ] as const) {
    it(`${name}: the ETA at ${checkpoints.map((f) => `${f * 100}%`).join(', ')} of the run is within ±30% of the time left; the percent never goes back nor jumps`, () => {
      const { snapshots, totalMs } = simulate(tree(40_000, [...largeAt]), census);
      expect(totalMs).toBeGreaterThan(2500);
      for (const fraction of checkpoints) {
        const snapshot = at(snapshots, totalMs * fraction);
        const left = totalMs - snapshot.elapsedMs;
        expect(snapshot.etaMs, `at ${fraction}`).toBeDefined();
        expect(Math.abs(snapshot.etaMs! - left) / left, `at ${fraction}: ETA ${snapshot.etaMs} ms, really ${left} ms`).toBeLessThanOrEqual(0.3);
      }
      for (let i = 1; i < snapshots.length; i++) {
        const [before, after] = [snapshots[i - 1]!, snapshots[i]!];
        expect(after.percent).toBeGreaterThanOrEqual(before.percent);
        expect(after.percent - before.percent, `at ${after.elapsedMs} ms`).toBeLessThan(12);
      }
      expect(snapshots.at(-1)!.percent).toBe(100);
      expect(snapshots.at(-1)!.etaMs).toBe(0);
    });
  }

  it('the ETA converges without jumps: from one snapshot to the next it moves by little more than the time that passed', () => {
    const { snapshots, totalMs } = simulate(tree(40_000, [100, 20_000]));
    const settled = snapshots.filter((s) => s.elapsedMs >= totalMs * 0.1 && s.etaMs !== undefined);
    for (let i = 1; i < settled.length; i++) {
      const [before, after] = [settled[i - 1]!, settled[i]!];
      const counted = before.etaMs! - (after.elapsedMs - before.elapsedMs);
      expect(Math.abs(after.etaMs! - counted), `at ${after.elapsedMs} ms`).toBeLessThanOrEqual(Math.max(250, 0.2 * before.etaMs!));
    }
  });
});

describe('WorkEstimator', () => {
  it('learns a cost per file and a cost per byte from steps that mix them', () => {
    const estimator = new WorkEstimator();
    let t = 0;
    let files = 0;
    let bytes = 0;
    // Alternating phases: small files (2 ms per file + 1 ms per MB), then a large file alone.
    for (let step = 0; step < 60; step++) {
      const df = step % 3 === 2 ? 0 : 50;
      const db = step % 3 === 2 ? 100e6 : 50 * 5000;
      files += df;
      bytes += db;
      t += df * 2 + db / 1e6;
      estimator.add({ elapsedMs: t, filesDone: files, bytesDone: bytes });
    }
    const { msPerFile, msPerByte } = estimator.costs();
    expect(msPerFile).toBeCloseTo(2, 1);
    expect(msPerByte * 1e6).toBeCloseTo(1, 1);
  });

  it('has no ETA before any work was timed, and keeps to its priors in a direction no step has tried', () => {
    const estimator = new WorkEstimator();
    expect(estimator.eta(0, { files: 10, bytes: 0 })).toBeUndefined();
    estimator.add({ elapsedMs: 0, filesDone: 0, bytesDone: 0 });
    estimator.add({ elapsedMs: 100, filesDone: 10, bytesDone: 0 });
    estimator.add({ elapsedMs: 200, filesDone: 20, bytesDone: 0 });
    expect(estimator.costs().msPerFile).toBeCloseTo(10, 0);
    expect(estimator.costs().msPerByte).toBeGreaterThan(0);
    expect(estimator.eta(200, { files: 10, bytes: 0 })).toBeCloseTo(100, -1);
  });

  it('a run of tiny files, whose bytes barely move, does not make a byte cost seconds per MB', () => {
    // Measured on 20,000 files of ~20 bytes: the fit once gave a 1.2 s copy left an ETA of 12 minutes,
    // putting the time of the files on their few bytes and then on the two 300 MB files still to come.
    const estimator = new WorkEstimator();
    let t = 0;
    let files = 0;
    for (let step = 0; step < 40; step++) {
      files += 300;
      t += 300 * 0.07;
      estimator.add({ elapsedMs: t, filesDone: files, bytesDone: files * 20 });
    }
    expect(estimator.costs().msPerFile).toBeCloseTo(0.07, 2);
    expect(estimator.costs().msPerByte * 1e6).toBeLessThan(2);
    expect(estimator.eta(t, { files: 2, bytes: 600e6 })).toBeLessThan(1500);
  });
});
