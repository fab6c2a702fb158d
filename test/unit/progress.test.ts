import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Job } from '../../src/shared/jobs.js';
import { Progress } from '../../src/run/progress.js';
import type { CopyProgress } from '../../src/run/types.js';

// Each file weighs as much as this many bytes in the percent (BYTES_PER_FILE_EQUIVALENT).
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
    progress.finished(job('a'), 10);
    progress.finished(job('b'), 10);
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
    progress.finished(job('a'), 100);
    progress.finished(job('dir/b'), 0);
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
    progress.finished(job('a'), 0);
    expect(progress.snapshot().percent).toBe(25);
    progress.finished(job('b'), 0);
    expect(progress.snapshot().percent).toBe(50);
    progress.finished(job('c'), 0);
    progress.finished(job('d'), 0);
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
    progress.finished(job('small'), 0);
    expect(progress.snapshot().percent).toBe(50);
    const large = job('large');
    progress.sized(large, 10 * FILE_WEIGHT);
    expect(progress.snapshot().percent).toBe(50);
    progress.fileProgress(large, 10 * FILE_WEIGHT);
    // (10 + 1) of (10 + 2) units done.
    expect(progress.snapshot().percent).toBeCloseTo((100 * 11) / 12, 10);
    progress.finished(large, 10 * FILE_WEIGHT);
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
    expect(snapshot.percent).toBeCloseTo((100 * 400) / (1000 + FILE_WEIGHT), 10);
    // A report of fewer bytes (a retried write) does not take the count back.
    progress.fileProgress(large, 300);
    expect(progress.snapshot().bytesDone).toBe(400);
    // More than the size found counts as the size.
    progress.fileProgress(large, 5000);
    expect(progress.snapshot().bytesDone).toBe(1000);
    progress.finished(large, 1000);
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
    progress.finished(large, 0);
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
    progress.finished(job('a\uE00Ab'), 0);
    expect(progress.snapshot().currentPath).toBe('a\nb');
    progress.finished(job('caf\u00e8'), 0);
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
    progress.finished(job('a'), 1);
    expect(seen).toHaveLength(1);
    vi.advanceTimersByTime(99);
    progress.planned(1);
    expect(seen).toHaveLength(1);
    vi.advanceTimersByTime(1);
    progress.planned(1);
    expect(seen).toHaveLength(2);
    expect(seen[1]).toMatchObject({ filesTotal: 3, filesDone: 1, bytesDone: 1 });
  });

  it('works without a listener', () => {
    const progress = new Progress(undefined);
    progress.planned(1);
    progress.emit();
    progress.finished(job('a'), 5);
    expect(progress.snapshot().filesDone).toBe(1);
  });
});
