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
  // Whatever it shows is within ±30% of the time left (or 150 ms, at the very end); where it cannot know,
  // it shows nothing. Without a census of the bytes, a large file not met yet is unknown: no ETA but the
  // last, 0. With one, large files at the top of the listing (or one early) are timed from the start, and
  // the estimate holds once the cost of their bytes is learned; large files at the end of the listing
  // teach it only there (until then, no ETA).
  for (const [name, largeAt, census, shownFrom] of [
    ['one early, one halfway through the listing, no census', [100, 20_000], false, undefined],
    ['both at the top of the listing', [0, 1], true, 0.5],
    ['both at the end of the listing', [40_000, 40_001], true, undefined],
    ['one early, one halfway', [100, 20_000], true, 0.5],
  ] as const) {
    it(`${name}: every ETA shown is within ±30% of the time left${shownFrom ? `, and one is shown from ${shownFrom * 100}% of the run` : ''}; the percent never goes back nor jumps`, () => {
      const { snapshots, totalMs } = simulate(tree(40_000, [...largeAt]), census);
      expect(totalMs).toBeGreaterThan(2500);
      for (const snapshot of snapshots.slice(0, -1)) {
        if (snapshot.etaMs === undefined) continue;
        const left = totalMs - snapshot.elapsedMs;
        expect(Math.abs(snapshot.etaMs - left), `at ${snapshot.elapsedMs} ms: ETA ${snapshot.etaMs} ms, really ${left} ms`).toBeLessThanOrEqual(Math.max(0.3 * left, 150));
      }
      for (const fraction of [0.25, 0.5, 0.75]) {
        if (shownFrom !== undefined && fraction >= shownFrom) expect(at(snapshots, totalMs * fraction).etaMs, `at ${fraction}`).toBeDefined();
      }
      for (let i = 1; i < snapshots.length; i++) {
        const [before, after] = [snapshots[i - 1]!, snapshots[i]!];
        expect(after.percent).toBeGreaterThanOrEqual(before.percent);
        // At most a step as large as when the large files at the top end and the first small files are timed.
        expect(after.percent - before.percent, `at ${after.elapsedMs} ms`).toBeLessThan(15);
      }
      expect(snapshots.at(-1)!.percent).toBe(100);
      expect(snapshots.at(-1)!.etaMs).toBe(0);
      if (!census) expect(snapshots.slice(0, -1).filter((s) => s.etaMs !== undefined)).toEqual([]);
    });
  }

  it('the ETA converges without jumps: from one snapshot to the next it moves by little more than the time that passed', () => {
    const { snapshots, totalMs } = simulate(tree(40_000, [100, 20_000]), true);
    expect(snapshots.filter((s) => s.etaMs !== undefined).length).toBeGreaterThan(10);
    const settled = snapshots.filter((s) => s.elapsedMs >= totalMs * 0.1 && s.etaMs !== undefined);
    for (let i = 1; i < settled.length; i++) {
      const [before, after] = [settled[i - 1]!, settled[i]!];
      const counted = before.etaMs! - (after.elapsedMs - before.elapsedMs);
      expect(Math.abs(after.etaMs! - counted), `at ${after.elapsedMs} ms`).toBeLessThanOrEqual(Math.max(250, 0.2 * before.etaMs!));
    }
  });
});

describe('WorkEstimator', () => {
  it('shows no ETA while the rate keeps changing (as small files sped up from 500 to 15,000 a second), and a true one once it holds', () => {
    // Snapshots every 100 ms: first the rate doubles every second, then it stays at 8,000 files a second
    // (from 4 s on, for 11 s).
    const estimator = new WorkEstimator();
    const total = 100_000;
    let files = 0;
    const shown: Array<{ t: number; eta: number | undefined }> = [];
    for (let t = 100; files < total; t += 100) {
      const rate = Math.min(8000, 500 * 2 ** (t / 1000));
      files = Math.min(total, files + rate / 10);
      estimator.add({ elapsedMs: t, filesDone: files, largeBytesDone: 0 });
      shown.push({ t, eta: estimator.eta(t, { files: total - files, largeBytes: 0, largeKnown: true }) });
    }
    const steadyFrom = 4000;
    const end = shown.at(-1)!.t;
    // While it sped up, any estimate from the past rate was far too high: none was shown.
    expect(shown.filter((s) => s.t < steadyFrom && s.eta !== undefined)).toEqual([]);
    // Once steady, it is shown by the time the steady part is two thirds of the run, and true: the slow
    // seconds weigh as the time they took, and fade with a half-life of 3 s.
    const steady = shown.filter((s) => s.t >= 3 * steadyFrom && s.t < end);
    expect(steady.length).toBeGreaterThan(0);
    for (const { t, eta } of steady) {
      expect(eta, `at ${t} ms`).toBeDefined();
      expect(Math.abs(eta! - (end - t)), `at ${t} ms`).toBeLessThanOrEqual(Math.max(0.3 * (end - t), 150));
    }
  });

  it('learns a cost per file and a cost per byte of a large file from steps that mix them', () => {
    const estimator = new WorkEstimator();
    let t = 0;
    let files = 0;
    let bytes = 0;
    // Alternating phases: small files (2 ms per file), then a large file alone (1 ms per MB).
    for (let step = 0; step < 60; step++) {
      const df = step % 3 === 2 ? 0 : 50;
      const db = step % 3 === 2 ? 100e6 : 0;
      files += df;
      bytes += db;
      t += df * 2 + db / 1e6;
      estimator.add({ elapsedMs: t, filesDone: files, largeBytesDone: bytes });
    }
    const { msPerFile, msPerByte } = estimator.costs();
    expect(msPerFile).toBeCloseTo(2, 1);
    expect(msPerByte * 1e6).toBeCloseTo(1, 1);
  });

  it('has no ETA before any work was timed, and keeps to its priors in a direction no step has tried', () => {
    const estimator = new WorkEstimator();
    const left = { files: 10, largeBytes: 0, largeKnown: true };
    expect(estimator.eta(0, left)).toBeUndefined();
    estimator.add({ elapsedMs: 0, filesDone: 0, largeBytesDone: 0 });
    estimator.add({ elapsedMs: 100, filesDone: 10, largeBytesDone: 0 });
    estimator.add({ elapsedMs: 200, filesDone: 20, largeBytesDone: 0 });
    expect(estimator.costs().msPerFile).toBeGreaterThan(8.5);
    expect(estimator.costs().msPerFile).toBeLessThan(10);
    expect(estimator.costs().msPerByte).toBeGreaterThan(0);
    // Estimated, but not shown yet: it has not held for long.
    expect(estimator.eta(200, left)).toBeUndefined();
    expect(estimator.smoothedEta()).toBeGreaterThan(85);
    expect(estimator.smoothedEta()).toBeLessThan(100);
  });

  it('shows no ETA while large files are left whose bytes no step has timed, nor before the census knows them all', () => {
    // 112,000 files of ~20 bytes at 0.07 ms each (steady: after 4 s, as much left), and two 300 MB files still to come.
    const estimator = new WorkEstimator();
    let t = 0;
    let files = 0;
    const shown: Array<number | undefined> = [];
    for (let step = 0; step < 40; step++) {
      files += 1400;
      t += 100;
      estimator.add({ elapsedMs: t, filesDone: files, largeBytesDone: 0 });
      shown.push(estimator.eta(t, { files: 112_000 - files, largeBytes: 600e6, largeKnown: true }));
    }
    expect(estimator.costs().msPerFile).toBeCloseTo(0.0714, 2);
    expect(shown.filter((eta) => eta !== undefined)).toEqual([]);
    // The same files with no large one left would show one: 4 s, by then.
    const other = new WorkEstimator();
    let eta: number | undefined;
    for (let step = 1; step <= 40; step++) {
      other.add({ elapsedMs: step * 100, filesDone: step * 1400, largeBytesDone: 0 });
      eta = other.eta(step * 100, { files: 112_000 - step * 1400, largeBytes: 0, largeKnown: true });
    }
    expect(eta).toBeGreaterThan(2800);
    expect(eta).toBeLessThan(5200);
    // ...but not while some large files may not be known yet.
    other.add({ elapsedMs: 4100, filesDone: 57_400, largeBytesDone: 0 });
    expect(other.eta(4100, { files: 54_600, largeBytes: 0, largeKnown: false })).toBeUndefined();
  });
});
