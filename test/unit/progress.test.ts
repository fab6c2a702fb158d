import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Job } from '../../src/shared/jobs.js';
import { Progress } from '../../src/run/progress.js';
import type { CopyProgress } from '../../src/run/types.js';

// A large file's size, in the tests below: well above what a file's own cost weighs (estimate.ts's prior).
const FILE_WEIGHT = 32 * 1024;

const job = (path: string): Job => ({ kind: 'file', path });

describe('Progress', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts listing, with nothing counted', () => {
    const snapshot = new Progress(undefined).snapshot();
    expect(snapshot).toMatchObject({ filesDone: 0, filesTotal: 0, bytesDone: 0, listing: true, percent: 0, currentPath: undefined });
  });

  it('keeps the percent at 0 while listing, however much is done', () => {
    const progress = new Progress(undefined);
    progress.planned(2);
    progress.finished(job('a'), 10, 10);
    progress.finished(job('b'), 10, 10);
    const snapshot = progress.snapshot();
    expect(snapshot.listing).toBe(true);
    expect(snapshot.percent).toBe(0);
    expect(snapshot.filesDone).toBe(2);
    expect(snapshot.filesTotal).toBe(2);
  });

  it('counts files planned and finished, and the bytes written', () => {
    const progress = new Progress(undefined);
    progress.planned();
    progress.planned(3);
    progress.finished(job('a'), 100, 100);
    progress.finished(job('dir/b'), 0, 0);
    const snapshot = progress.snapshot();
    expect(snapshot.filesTotal).toBe(4);
    expect(snapshot.filesDone).toBe(2);
    expect(snapshot.bytesDone).toBe(100);
    expect(snapshot.currentPath).toBe('dir/b');
  });

  it('computes the percent after listing from files and bytes, and reaches 100 when all finished', () => {
    const progress = new Progress(undefined);
    progress.planned(4);
    progress.listingDone();
    expect(progress.snapshot()).toMatchObject({ listing: false, percent: 0 });
    progress.finished(job('a'), 0, 0);
    expect(progress.snapshot().percent).toBe(25);
    progress.finished(job('b'), 0, 0);
    expect(progress.snapshot().percent).toBe(50);
    progress.finished(job('c'), 0, 0);
    progress.finished(job('d'), 0, 0);
    expect(progress.snapshot().percent).toBe(100);
  });

  it('is at 100 after listing when there was nothing to copy', () => {
    const progress = new Progress(undefined);
    progress.listingDone();
    expect(progress.snapshot().percent).toBe(100);
  });

  it('never lowers the percent when a large file’s size adds work', () => {
    const progress = new Progress(undefined);
    progress.planned(2);
    progress.listingDone();
    progress.finished(job('small'), 0, 0);
    expect(progress.snapshot().percent).toBe(50);
    const large = job('large');
    progress.sized(large, 10 * FILE_WEIGHT);
    expect(progress.snapshot().percent).toBe(50);
    progress.fileProgress(large, 10 * FILE_WEIGHT);
    // Its bytes are written, the file itself is not finished: further on, not at the end. (The weights are learned: estimate.ts.)
    const percent = progress.snapshot().percent;
    expect(percent).toBeGreaterThan(50);
    expect(percent).toBeLessThan(100);
    progress.finished(large, 10 * FILE_WEIGHT, 10 * FILE_WEIGHT);
    expect(progress.snapshot().percent).toBe(100);
  });

  it('advances bytesDone with a large file’s progress before it finishes, and never backwards', () => {
    const progress = new Progress(undefined);
    const large = job('big.iso');
    progress.planned();
    progress.listingDone();
    progress.sized(large, 1000);
    progress.fileProgress(large, 400);
    let snapshot = progress.snapshot();
    expect(snapshot.bytesDone).toBe(400);
    expect(snapshot.filesDone).toBe(0);
    expect(snapshot.currentPath).toBe('big.iso');
    expect(snapshot.percent).toBeGreaterThan(0);
    expect(snapshot.percent).toBeLessThan(100);
    // A report of fewer bytes (a retried write) does not take the count back.
    progress.fileProgress(large, 300);
    expect(progress.snapshot().bytesDone).toBe(400);
    // More than the size found counts as the size.
    progress.fileProgress(large, 5000);
    expect(progress.snapshot().bytesDone).toBe(1000);
    progress.finished(large, 1000, 1000);
    snapshot = progress.snapshot();
    expect(snapshot.bytesDone).toBe(1000);
    expect(snapshot.filesDone).toBe(1);
    expect(snapshot.percent).toBe(100);
  });

  it('keeps bytesDone when a large file in progress fails and writes nothing', () => {
    const progress = new Progress(undefined);
    const large = job('big');
    progress.planned();
    progress.sized(large, 1000);
    progress.fileProgress(large, 600);
    expect(progress.snapshot().bytesDone).toBe(600);
    progress.finished(large, 0, 0);
    expect(progress.snapshot().bytesDone).toBe(600);
    expect(progress.snapshot().filesDone).toBe(1);
  });

  it('ignores progress for a file it was not told the size of', () => {
    const progress = new Progress(undefined);
    progress.planned();
    progress.fileProgress(job('unknown'), 500);
    expect(progress.snapshot().bytesDone).toBe(0);
    expect(progress.snapshot().currentPath).toBe('unknown');
  });

  it('gives the current path as lossless text (the CLI escapes it for display)', () => {
    const progress = new Progress(undefined);
    progress.finished(job('a\uE00Ab'), 0, 0);
    expect(progress.snapshot().currentPath).toBe('a\nb');
    progress.finished(job('caf\u00e8'), 0, 0);
    expect(progress.snapshot().currentPath).toBe('caf\udce8');
  });

  it('emit() always calls the listener, however recent the last call', () => {
    const seen: CopyProgress[] = [];
    const progress = new Progress((snapshot) => seen.push(snapshot));
    progress.emit();
    progress.emit();
    progress.emit();
    expect(seen).toHaveLength(3);
    progress.listingDone();
    expect(seen).toHaveLength(4);
    expect(seen[3]!.listing).toBe(false);
  });

  it('throttles the other updates to one listener call per 100 ms', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const seen: CopyProgress[] = [];
    const progress = new Progress((snapshot) => seen.push(snapshot));
    progress.emit();
    expect(seen).toHaveLength(1);
    progress.planned(1);
    progress.finished(job('a'), 1, 1);
    expect(seen).toHaveLength(1);
    vi.advanceTimersByTime(99);
    progress.planned(1);
    expect(seen).toHaveLength(1);
    vi.advanceTimersByTime(1);
    progress.planned(1);
    expect(seen).toHaveLength(2);
    expect(seen[1]).toMatchObject({ filesTotal: 3, filesDone: 1, bytesDone: 1 });
  });

  it('has no ETA while listing, nor before the census has counted the bytes; an ETA from the timed work after it, and 0 at the end', () => {
    let now = 0;
    const progress = new Progress(undefined, () => now);
    progress.planned(100);
    for (let i = 0; i < 20; i++) {
      now += 100;
      progress.finished(job(`f${i}`), 1000, 1000);
      expect(progress.snapshot().etaMs).toBeUndefined();
    }
    progress.listingDone();
    // Until the census has sized every file, any file not copied yet may be a large one: no ETA, however long it held.
    for (let i = 20; i < 30; i++) {
      now += 100;
      progress.finished(job(`f${i}`), 1000, 1000);
      expect(progress.snapshot().etaMs).toBeUndefined();
    }
    progress.counted({ files: 100, bytes: 100_000 });
    now += 100;
    progress.finished(job('f30'), 1000, 1000);
    for (let i = 31; i < 50; i++) {
      now += 100;
      progress.finished(job(`f${i}`), 1000, 1000);
      progress.snapshot();
    }
    // 10 files a second, 50 left: about 5 s.
    expect(progress.snapshot().etaMs).toBeGreaterThan(4000);
    expect(progress.snapshot().etaMs).toBeLessThan(6000);
    for (let i = 50; i < 100; i++) {
      now += 100;
      progress.finished(job(`f${i}`), 1000, 1000);
    }
    expect(progress.snapshot()).toMatchObject({ percent: 100, etaMs: 0 });
  });

  it('takes its totals from the census while the walk still lists: files first, then bytes for the ETA', () => {
    let now = 0;
    const progress = new Progress(undefined, () => now);
    progress.planned(10);
    expect(progress.snapshot()).toMatchObject({ listing: true, filesTotal: 10 });
    progress.counted({ files: 100 });
    expect(progress.snapshot()).toMatchObject({ listing: false, filesTotal: 100 });
    progress.counted({ files: 100, bytes: 100e6 });
    // Snapshots every 100 ms, as the listener gets them: each one times a step.
    for (let i = 0; i < 10; i++) {
      now += 100;
      progress.finished(job(`f${i}`), 1e6, 1e6);
      progress.snapshot();
    }
    const snapshot = progress.snapshot();
    expect(snapshot).toMatchObject({ listing: false, filesTotal: 100, filesDone: 10 });
    // 10 files of 1 MB a second: 90 files and 90 MB left take about 9 s, whichever cost the fit gives them:
    // a tenth of the run is too early for an ETA, but the percent says where it is.
    expect(snapshot.etaMs).toBeUndefined();
    expect(snapshot.percent).toBeGreaterThan(5);
    expect(snapshot.percent).toBeLessThan(15);
    for (let i = 10; i < 30; i++) {
      now += 100;
      progress.finished(job(`f${i}`), 1e6, 1e6);
      progress.snapshot();
    }
    // 70 files and 70 MB left: about 7 s.
    expect(progress.snapshot().etaMs).toBeGreaterThan(5000);
    expect(progress.snapshot().etaMs).toBeLessThan(9000);
  });

  it('says when the census has sized the tree (totalsKnown), and the ETA must hold anew from then', () => {
    let now = 0;
    const progress = new Progress(undefined, () => now);
    progress.planned(1000);
    progress.listingDone();
    const run = (from: number, to: number): CopyProgress => {
      for (let i = from; i < to; i++) {
        now += 100;
        for (let j = 0; j < 10; j++) progress.finished(job(`f${i}-${j}`), 100, 100);
        progress.snapshot();
      }
      return progress.snapshot();
    };
    // 100 files a second, the census still sizing: no ETA, however steady the pace.
    expect(run(0, 40)).toMatchObject({ totalsKnown: false, etaMs: undefined });
    progress.counted({ files: 1000, bytes: 1000 * 100 });
    expect(progress.snapshot()).toMatchObject({ totalsKnown: true, etaMs: undefined });
    // Half a second later the pace has held since, but not for a quarter of the 6 s it predicts.
    expect(run(40, 46)).toMatchObject({ totalsKnown: true, etaMs: undefined });
    // A second and a half after the totals: 440 files left at 100 a second.
    const later = run(46, 56);
    expect(later.etaMs).toBeGreaterThan(3500);
    expect(later.etaMs).toBeLessThan(5300);
  });

  it('counts a census’s bytes as work left only in the share that needed writing so far (a re-run keeps most)', () => {
    let now = 0;
    const progress = new Progress(undefined, () => now);
    progress.planned(4);
    progress.counted({ files: 4, bytes: 4e9 });
    progress.listingDone();
    for (let i = 0; i < 2; i++) {
      now += 100;
      progress.finished(job(`kept${i}`), 1e9, 0);
      progress.snapshot();
    }
    // Kept: 2 files in 200 ms, none written. Two more files of 1 GB are not 2 GB of writing ahead
    // (at a byte's prior cost, 400 ms more, which would make it 25%): half or more of the work is done. Too soon for an ETA.
    const snapshot = progress.snapshot();
    expect(snapshot.percent).toBeGreaterThan(40);
    expect(snapshot.percent).toBeLessThan(75);
    expect(snapshot.etaMs).toBeUndefined();
  });

  it('once the walk is done, counts its own jobs, not the census’s (retries add to them)', () => {
    const progress = new Progress(undefined);
    progress.planned(3);
    progress.counted({ files: 5, bytes: 0 });
    expect(progress.snapshot().filesTotal).toBe(5);
    progress.listingDone();
    expect(progress.snapshot().filesTotal).toBe(3);
    progress.planned(1);
    expect(progress.snapshot().filesTotal).toBe(4);
  });

  it('works without a listener', () => {
    const progress = new Progress(undefined);
    progress.planned(1);
    progress.emit();
    progress.finished(job('a'), 5, 5);
    expect(progress.snapshot().filesDone).toBe(1);
  });
});
