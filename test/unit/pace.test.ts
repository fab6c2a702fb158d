import { describe, expect, it } from 'vitest';
import { workersToFork } from '../../src/pool/forking.js';
import { MAX_BATCH_JOBS, Pace } from '../../src/pool/pace.js';

describe('Pace', () => {
  it('cuts batches of 8 jobs before anything is timed, however many wait, then of at least 100 ms at the measured pace', () => {
    const pace = new Pace(2);
    expect(pace.msPerJob).toBeUndefined();
    expect(pace.batchSize(10, 2)).toBe(8);
    // A slow mount is found out after 8 jobs, not after a share of a long queue (300 jobs: 3 s at 10 ms each).
    expect(pace.batchSize(600, 1)).toBe(8);

    // A local disk: 8 files in 0.4 ms.
    pace.observe(8, 0.4, 0.4);
    expect(pace.batchSize(10, 2)).toBe(MAX_BATCH_JOBS);

    // A slow mount: 10 ms a file.
    const slow = new Pace(2);
    slow.observe(10, 100, 100);
    expect(slow.batchSize(2, 16)).toBe(10);
    slow.observe(1, 1000, 1000);
    expect(slow.batchSize(2, 16)).toBe(1);
  });

  it('gives each worker a share of half of what waits, so the shares shrink as the queue empties, down to 100 ms of work', () => {
    const slow = new Pace(2);
    slow.observe(10, 100, 100);
    expect(slow.batchSize(2_000, 16)).toBe(63);
    expect(slow.batchSize(100, 16)).toBe(10);
    expect(slow.batchSize(100_000, 16)).toBe(MAX_BATCH_JOBS);
  });

  it('follows a change of pace: older measurements fade', () => {
    const pace = new Pace(2);
    pace.observe(10, 100, 100);
    for (let i = 0; i < 30; i++) pace.observe(100, 5, 5);
    expect(pace.msPerJob).toBeLessThan(0.1);
    expect(pace.batchSize(1, 2)).toBe(MAX_BATCH_JOBS);
  });

  it('ignores empty or impossible measurements', () => {
    const pace = new Pace(2);
    pace.observe(0, 50, 50);
    pace.observe(5, Number.NaN, 1);
    pace.observe(5, -1, 0);
    pace.observe(5, 10, -1);
    expect(pace.msPerJob).toBeUndefined();
  });

  it('wants another worker only while the time it saves outlasts starting one', () => {
    const pace = new Pace(2);
    // Before timing, a job is taken to cost 0.05 ms: 100 files are not worth a fork, 5,000 are.
    expect(pace.worthAnotherWorker(100, 0)).toBe(false);
    expect(pace.worthAnotherWorker(5_000, 0)).toBe(true);
    pace.observe(10, 100, 100);
    // 10 ms a job: 450 jobs (4.5 s) are worth up to 7 workers (4.5 s / (6 × 7) > 100 ms, / (7 × 8) is not).
    expect(pace.worthAnotherWorker(450, 0)).toBe(true);
    expect(pace.worthAnotherWorker(450, 6)).toBe(true);
    expect(pace.worthAnotherWorker(450, 7)).toBe(false);
    expect(pace.worthAnotherWorker(11, 0)).toBe(true);
    expect(pace.worthAnotherWorker(11, 1)).toBe(false);
  });

  it('keeps about a worker per core busy when jobs compute, and more where they wait on the file system', () => {
    expect(new Pace(2).usefulWorkers()).toBe(Number.POSITIVE_INFINITY);
    const local = new Pace(2);
    local.observe(100, 5, 4.5);
    expect(local.usefulWorkers()).toBe(3);
    const slowMount = new Pace(2);
    slowMount.observe(10, 100, 8);
    expect(slowMount.usefulWorkers()).toBe(25);
    const idle = new Pace(2);
    idle.observe(10, 100, 0);
    expect(idle.usefulWorkers()).toBe(40);
  });
});

describe('workersToFork', () => {
  const crew = { workers: 0, most: 4, parentRuns: true, listed: true, submittedJobs: 0, waitingMs: 0, coresIdle: () => true };

  it('forks nothing for a small copy the parent runs itself', () => {
    expect(workersToFork(crew, { jobs: 100, holdsLargeFile: false, forkedFiles: 0 }, new Pace(2))).toBe(0);
  });

  it("forks one for a large file only a forked worker may copy, or one waiting while the tree is listed, for a pool without the parent, or for a listing that has shown a moment's work", () => {
    // Once the tree is listed, the parent tries to clone a large file itself.
    expect(workersToFork(crew, { jobs: 1, holdsLargeFile: true, forkedFiles: 0 }, new Pace(2))).toBe(0);
    expect(workersToFork({ ...crew, listed: false }, { jobs: 1, holdsLargeFile: true, forkedFiles: 0 }, new Pace(2))).toBe(1);
    expect(workersToFork(crew, { jobs: 1, holdsLargeFile: true, forkedFiles: 1 }, new Pace(2))).toBe(1);
    expect(workersToFork({ ...crew, parentRuns: false }, { jobs: 1, holdsLargeFile: false, forkedFiles: 0 }, new Pace(2))).toBe(1);
    expect(workersToFork({ ...crew, listed: false, submittedJobs: 1_000 }, { jobs: 10, holdsLargeFile: false, forkedFiles: 0 }, new Pace(2))).toBe(1);
    expect(workersToFork({ ...crew, workers: 1, parentRuns: false }, { jobs: 1, holdsLargeFile: true, forkedFiles: 1 }, new Pace(2))).toBe(0);
  });

  it('forks one while listing when a few jobs have waited longer than a worker takes to start (a listing slow by round trips), not before', () => {
    const queued = { jobs: 8, holdsLargeFile: false, forkedFiles: 0 };
    expect(workersToFork({ ...crew, listed: false, submittedJobs: 8, waitingMs: 50 }, queued, new Pace(2))).toBe(0);
    expect(workersToFork({ ...crew, listed: false, submittedJobs: 8, waitingMs: 150 }, queued, new Pace(2))).toBe(1);
    // Once listed, the work left decides: 8 small files are the parent's.
    expect(workersToFork({ ...crew, submittedJobs: 8, waitingMs: 150 }, queued, new Pace(2))).toBe(0);
  });

  it('forks a worker per large file waiting that only a forked worker may copy, up to the cores', () => {
    expect(workersToFork({ ...crew, workers: 1 }, { jobs: 3, holdsLargeFile: true, forkedFiles: 3 }, new Pace(2))).toBe(2);
    expect(workersToFork({ ...crew, workers: 1, most: 2 }, { jobs: 3, holdsLargeFile: true, forkedFiles: 3 }, new Pace(2))).toBe(1);
    expect(workersToFork({ ...crew, workers: 2 }, { jobs: 2, holdsLargeFile: true, forkedFiles: 2 }, new Pace(2))).toBe(0);
  });

  it('forks as many as the waiting work pays for, up to the most allowed', () => {
    const slow = new Pace(2);
    // 10 ms a job, all of it waiting on the file system.
    slow.observe(10, 100, 0);
    expect(workersToFork({ ...crew, workers: 1 }, { jobs: 30, holdsLargeFile: false, forkedFiles: 0 }, slow)).toBe(1);
    expect(workersToFork({ ...crew, workers: 1 }, { jobs: 100, holdsLargeFile: false, forkedFiles: 0 }, slow)).toBe(2);
    expect(workersToFork({ ...crew, workers: 1 }, { jobs: 100_000, holdsLargeFile: false, forkedFiles: 0 }, slow)).toBe(3);
  });
});

describe('workersToFork beyond one worker per core', () => {
  const crew = { workers: 2, most: 16, parentRuns: false, listed: true, submittedJobs: 2_000, waitingMs: 0 };
  const queued = { jobs: 2_000, holdsLargeFile: false, forkedFiles: 0 };
  // 50 ms a job, nearly all of it waiting on a slow mount: many workers would pay.
  const slow = () => {
    const pace = new Pace(2);
    pace.observe(10, 500, 10);
    return pace;
  };

  it('forks more only while the cores have time to spare, asking once for each', () => {
    let asked = 0;
    const idle = () => (asked++, true);
    expect(workersToFork({ ...crew, coresIdle: idle }, queued, slow())).toBe(14);
    expect(asked).toBe(14);
    expect(workersToFork({ ...crew, coresIdle: () => false }, queued, slow())).toBe(0);
    // The cores seen full after one more: no further.
    let once = true;
    expect(workersToFork({ ...crew, coresIdle: () => (once ? !(once = false) : false) }, queued, slow())).toBe(1);
  });

  it('up to one per core, does not ask', () => {
    const never = () => {
      throw new Error('asked');
    };
    expect(workersToFork({ ...crew, workers: 1, most: 2, coresIdle: never }, queued, slow())).toBe(1);
  });
});

describe('timeConfirmation', () => {
  it("times a runner's jobs from its last confirmation, less a cold runner's warm-up, and never a large file's", () => {
    const pace = new Pace(2);
    const runner = { busySince: 1_000, warm: false };
    pace.timeConfirmation(runner, 1_040, { jobs: 10, cpuMs: 5, waitMs: 0, largeFile: false });
    expect(pace.msPerJob).toBeCloseTo(1);
    expect(runner).toEqual({ busySince: 1_040, warm: true });
    pace.timeConfirmation(runner, 5_040, { jobs: 1, cpuMs: 4_000, waitMs: 0, largeFile: true });
    expect(pace.msPerJob).toBeCloseTo(1);
    expect(runner.busySince).toBe(5_040);
  });

  it('leaves out the time the runner waited for a core: other processes made it, not the jobs', () => {
    const pace = new Pace(2);
    const runner = { busySince: 1_000, warm: true };
    // 100 ms on the clock, 80 of them waiting for a core: 10 jobs of 2 ms.
    pace.timeConfirmation(runner, 1_100, { jobs: 10, cpuMs: 20, waitMs: 80, largeFile: false });
    expect(pace.msPerJob).toBeCloseTo(2);
    // All of its time on a core: one worker per core is what pays.
    expect(pace.usefulWorkers()).toBe(2);
  });
});

describe('Pace onto a network or FUSE file system', () => {
  it('takes an untimed job to wait on round trips: a first worker for a few jobs, more for a few hundred', () => {
    const local = new Pace(2);
    const remote = new Pace(2, true);
    // 20 jobs shown while listing: 1 ms of small files on a local disk, about 20 ms of round trips on a mount.
    expect(local.worthAFirstWorker(20, 0)).toBe(false);
    expect(remote.worthAFirstWorker(20, 0)).toBe(true);
    // 300 jobs waiting for one worker: another pays where each is a round trip or ten.
    expect(local.worthAnotherWorker(300, 1)).toBe(false);
    expect(remote.worthAnotherWorker(300, 1)).toBe(true);
    // Once timed, the measured pace decides, wherever the jobs go.
    remote.observe(8, 0.4, 0.4);
    expect(remote.worthAnotherWorker(300, 1)).toBe(false);
  });
});
