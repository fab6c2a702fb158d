// The worker pool under faults: a worker that dies on a job, a worker that cannot start, a file that
// vanishes mid-copy, and the pool's size as seen from outside (processes, through the CLI).
// The pool is imported from src/; the worker it forks is the built one (dist/worker.js, through
// helpers/crash-worker.js), so npm run build comes first, as for the CLI.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WorkerPool } from '../src/pool/pool.js';
import { copyPool } from '../src/run/copy-pool.js';
import { RunStopped, type ErrorRecord } from '../src/shared/errors.js';
import type { FileJob, Job } from '../src/shared/jobs.js';
import { isAlive, listDescendants, processCommandLine, processesWithEnv, waitForExit } from './helpers/processes.js';
import { REPO_ROOT, runCli, startCli } from './helpers/run-cli.js';
import { reflinkMount, reflinkUnavailable, sharesBlocks } from './helpers/reflink-mount.js';
import { diffTrees, findTempLeftovers, snapshotTree, sourceAndCopy, useTempDirs } from './helpers/tree.js';

const tempDir = useTempDirs();

/** Runs the CLI, noting every process it forks (polled every 2 ms) until it exits. */
async function runWatchingForks(args: string[]): Promise<{ result: Awaited<ReturnType<typeof startCli>['result']>; seen: number[] }> {
  const started = startCli(args);
  const seen = new Set<number>();
  let exited = false;
  started.child.once('exit', () => (exited = true));
  while (!exited) {
    for (const pid of listDescendants(started.child.pid!)) seen.add(pid);
    await sleep(2);
  }
  return { result: await started.result, seen: [...seen] };
}
const CRASH_WORKER = fileURLToPath(new URL('./helpers/crash-worker.js', import.meta.url));

afterEach(() => {
  vi.unstubAllEnvs();
});

interface Done {
  job: Job;
  error: ErrorRecord | null;
}

/** Writes `count` files named f000.txt… with distinct contents in `source`; returns their jobs. */
function makeFiles(source: string, count: number, prefix = 'f'): FileJob[] {
  const jobs: FileJob[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${prefix}${String(i).padStart(3, '0')}.txt`;
    const file = path.join(source, name);
    fs.writeFileSync(file, `contents of ${name}\n`.repeat(i + 1));
    jobs.push({ kind: 'file', path: name });
  }
  return jobs;
}

async function makeRoots(): Promise<{ source: string; destination: string; forkLog: string }> {
  const { root, source, copy: destination } = await sourceAndCopy(tempDir);
  fs.mkdirSync(source);
  // The pool does not make directories: the parent (run/plan.ts through destination/) does before it submits jobs.
  fs.mkdirSync(destination);
  return { source, destination, forkLog: path.join(root, 'forks.log') };
}

function forkedPids(forkLog: string): number[] {
  if (!fs.existsSync(forkLog)) return [];
  return fs.readFileSync(forkLog, 'utf8').split('\n').filter(Boolean).map(Number);
}

function newPool(source: string, destination: string, size: number, done: Done[]): WorkerPool {
  return copyPool({
    size,
    source,
    destination,
    settings: {
      overwrite: 'changed',
      modifyWindow: 0,
      dryRun: false,
      verify: false,
      digest: false,
      staged: false,
      owners: { preserve: false, uid: -1, gid: -1, groupInherited: false, xattrs: true },
      backup: null,
    },
    workerPath: CRASH_WORKER,
    onJobDone: (job, { error }) => done.push({ job, error: error ?? null }),
    onConfirmation: () => {},
    onFileProgress: () => {},
  });
}

/** Submits each batch to a pool of `size` crash-worker processes, waits for all, closes it; returns what was reported. */
async function runPool(source: string, destination: string, size: number, batches: FileJob[][]): Promise<Done[]> {
  const done: Done[] = [];
  const pool = newPool(source, destination, size, done);
  try {
    for (const batch of batches) pool.submit(batch);
    await pool.whenIdle();
  } finally {
    await pool.close();
  }
  return done;
}

describe('worker start-up', () => {
  it('workers start without NODE_EXTRA_CA_CERTS: they make no TLS connections, and parsing a bundle costs each ~60 ms', async () => {
    const { source, destination } = await makeRoots();
    const envLog = path.join(destination, '..', 'env.log');
    vi.stubEnv('NODE_EXTRA_CA_CERTS', path.join(source, 'extra-ca.pem'));
    vi.stubEnv('FOLDERCOPY_TEST_ENV_LOG', `${envLog}:NODE_EXTRA_CA_CERTS`);
    const jobs = makeFiles(source, 4);
    const done = await runPool(source, destination, 2, [jobs.slice(0, 2), jobs.slice(2)]);

    expect(done.filter((d) => d.error !== null)).toEqual([]);
    const seen = fs.readFileSync(envLog, 'utf8').trim().split('\n');
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(new Set(seen)).toEqual(new Set(['(unset)']));
  });
});

describe('a job that kills its worker', () => {
  it('leaves no temporary file of any batch the worker held, even one whose earlier batch was never confirmed', async () => {
    const { source, destination } = await makeRoots();
    const first = makeFiles(source, 3, 'a');
    const second = makeFiles(source, 2, 'b');
    const poison = second[1]!;
    vi.stubEnv('FOLDERCOPY_TEST_LOSE_CONFIRMATION', `${first[0]!.path}:${path.join(destination, '..', 'lost.marker')}`);
    vi.stubEnv('FOLDERCOPY_TEST_CRASH_ON', poison.path);
    vi.stubEnv('FOLDERCOPY_TEST_MID_WRITE', '1');
    // One worker holds both batches; it finishes the first (its confirmation lost), then dies writing the second.
    const done = await runPool(source, destination, 1, [first, second]);

    expect(await findTempLeftovers(destination)).toEqual([]);
    expect(done.find((d) => d.job.path === poison.path)?.error).toMatchObject({ code: 'WORKER_CRASHED' });
    for (const job of [...first, second[0]!]) {
      expect(fs.readFileSync(path.join(destination, job.path)), job.path).toEqual(fs.readFileSync(path.join(source, job.path)));
    }
  });

  it('is reported as WORKER_CRASHED after killing a worker twice; the rest of its batch is copied', async () => {
    const { source, destination, forkLog } = await makeRoots();
    const jobs = makeFiles(source, 20);
    const poison = jobs[7]!;
    vi.stubEnv('FOLDERCOPY_TEST_CRASH_ON', poison.path);
    vi.stubEnv('FOLDERCOPY_TEST_FORK_LOG', forkLog);
    const done = await runPool(source, destination, 2, [jobs]);

    // Every job is reported exactly once.
    expect(done.map((d) => d.job.path).sort()).toEqual(jobs.map((j) => j.path).sort());
    const poisonReports = done.filter((d) => d.job.path === poison.path);
    expect(poisonReports).toHaveLength(1);
    expect(poisonReports[0]!.error).toMatchObject({ code: 'WORKER_CRASHED', operation: 'worker' });
    expect(poisonReports[0]!.error!.path).toBe(path.join(source, poison.path));
    const others = done.filter((d) => d.job.path !== poison.path);
    expect(others.filter((d) => d.error !== null)).toEqual([]);
    for (const job of jobs) {
      if (job === poison) continue;
      expect(fs.readFileSync(path.join(destination, job.path)), job.path).toEqual(fs.readFileSync(path.join(source, job.path)));
    }
    expect(fs.existsSync(path.join(destination, poison.path))).toBe(false);
    expect(await findTempLeftovers(destination)).toEqual([]);
    // Killed once in its batch and once alone on its retry: at least the first worker and two replacements.
    const pids = forkedPids(forkLog);
    expect(pids.length).toBeGreaterThanOrEqual(3);
    expect(pids.filter(isAlive).map(processCommandLine)).toEqual([]);
  });
});

describe('a worker that cannot start', () => {
  it('makes whenIdle() reject with a WORKER_START run stop, without forking again and again', async () => {
    const { source, destination, forkLog } = await makeRoots();
    const jobs = makeFiles(source, 30);
    vi.stubEnv('FOLDERCOPY_TEST_EXIT_AT_START', '3');
    vi.stubEnv('FOLDERCOPY_TEST_FORK_LOG', forkLog);
    const done: Done[] = [];
    const pool = newPool(source, destination, 2, done);

    let rejection: unknown;
    try {
      // Three batches, so the pool has a reason to start both of its workers.
      pool.submit(jobs.slice(0, 10));
      pool.submit(jobs.slice(10, 20));
      pool.submit(jobs.slice(20));
      rejection = await pool.whenIdle().then(
        () => new Error('whenIdle() resolved'),
        (error: unknown) => error,
      );
      // Time for a respawn loop to show itself.
      await sleep(1000);
    } finally {
      await pool.close();
    }

    expect(rejection).toBeInstanceOf(RunStopped);
    expect((rejection as RunStopped).record.code).toBe('WORKER_START');
    expect((rejection as RunStopped).record.operation).toBe('worker');
    expect((rejection as RunStopped).record.message).toMatch(/exited with code 3/);
    const pids = forkedPids(forkLog);
    expect(pids.length).toBeGreaterThanOrEqual(1);
    expect(pids.length).toBeLessThanOrEqual(2);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(done).toEqual([]);
    expect(fs.readdirSync(destination)).toEqual([]);
  });
});

describe('a worker killed while it boots', () => {
  it('is a crash, not a broken install: another worker is forked and every job is copied', async () => {
    const { source, destination, forkLog } = await makeRoots();
    const jobs = makeFiles(source, 30);
    vi.stubEnv('FOLDERCOPY_TEST_KILL_AT_FORK', '2');
    vi.stubEnv('FOLDERCOPY_TEST_FORK_LOG', forkLog);
    // 40 ms a file: once the first jobs are timed, the rest is worth a second worker (the one that is killed).
    vi.stubEnv('FOLDERCOPY_TEST_SLOW_OPEN', `20:${path.join(destination, '..', 'jobs.log')}`);
    const done = await runPool(source, destination, 2, [jobs.slice(0, 10), jobs.slice(10, 20), jobs.slice(20)]);

    const pids = forkedPids(forkLog);
    expect(pids.length).toBeGreaterThanOrEqual(2);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(done.filter((d) => d.error !== null)).toEqual([]);
    expect(done.map((d) => d.job.path).sort()).toEqual(jobs.map((j) => j.path));
    for (const job of jobs) {
      expect(fs.readFileSync(path.join(destination, job.path))).toEqual(fs.readFileSync(path.join(source, job.path)));
    }
    expect(await findTempLeftovers(destination)).toEqual([]);
  });
});

describe('a file that vanishes during the copy', () => {
  it('fails a file replaced by a FIFO since it was listed, instead of blocking on it; the rest is copied', async () => {
    const { source, destination } = await makeRoots();
    const jobs = makeFiles(source, 6);
    const replaced = jobs[2]!;
    vi.stubEnv('FOLDERCOPY_TEST_FIFO_BEFORE', replaced.path);
    const done = await runPool(source, destination, 1, [jobs]);

    expect(fs.lstatSync(path.join(source, replaced.path)).isFIFO()).toBe(true);
    expect(done.filter((d) => d.error !== null)).toEqual([
      { job: replaced, error: expect.objectContaining({ code: 'ECHANGED', path: path.join(source, replaced.path) }) },
    ]);
    expect(fs.existsSync(path.join(destination, replaced.path))).toBe(false);
    for (const job of jobs) {
      if (job !== replaced) expect(fs.readFileSync(path.join(destination, job.path)), job.path).toEqual(fs.readFileSync(path.join(source, job.path)));
    }
  }, 10_000);

  it('fails with ENOENT on read; the other files of its batch are copied', async () => {
    const { source, destination, forkLog } = await makeRoots();
    const jobs = makeFiles(source, 12);
    const vanishing = jobs[5]!;
    vi.stubEnv('FOLDERCOPY_TEST_UNLINK_BEFORE', vanishing.path);
    vi.stubEnv('FOLDERCOPY_TEST_FORK_LOG', forkLog);
    const done = await runPool(source, destination, 1, [jobs]);

    // The wrapper really removed it.
    expect(fs.existsSync(path.join(source, vanishing.path))).toBe(false);
    expect(done).toHaveLength(jobs.length);
    const failed = done.filter((d) => d.error !== null);
    expect(failed.map((d) => d.job.path)).toEqual([vanishing.path]);
    expect(failed[0]!.error).toMatchObject({
      code: 'ENOENT',
      operation: 'read',
      path: path.join(source, vanishing.path),
    });
    for (const job of jobs) {
      if (job === vanishing) continue;
      expect(fs.readFileSync(path.join(destination, job.path)), job.path).toEqual(fs.readFileSync(path.join(source, job.path)));
    }
    expect(fs.existsSync(path.join(destination, vanishing.path))).toBe(false);
    expect(await findTempLeftovers(destination)).toEqual([]);
    expect(forkedPids(forkLog).filter(isAlive)).toEqual([]);
  });
});

describe('a source file rewritten while it is read', () => {
  for (const how of ['shrink', 'grow'] as const) {
    it(`(${how}) every time: fails with ESOURCECHANGED after retries, and nothing is left at its name`, async () => {
      const { source, destination } = await makeRoots();
      const jobs = makeFiles(source, 3);
      // Big enough that each attempt reads it in several calls, even after two halvings.
      fs.writeFileSync(path.join(source, 'moving.bin'), Buffer.alloc(4_000_000, 7));
      vi.stubEnv('FOLDERCOPY_TEST_REWRITE_DURING_READ', `moving.bin:always:${how}`);
      const done = await runPool(source, destination, 1, [[...jobs, { kind: 'file', path: 'moving.bin' }]]);

      const failed = done.filter((d) => d.error !== null);
      expect(failed.map((d) => d.job.path)).toEqual(['moving.bin']);
      expect(failed[0]!.error).toMatchObject({ code: 'ESOURCECHANGED', operation: 'read', path: path.join(source, 'moving.bin') });
      expect(fs.existsSync(path.join(destination, 'moving.bin'))).toBe(false);
      expect(await findTempLeftovers(destination)).toEqual([]);
      for (const job of jobs) expect(fs.readFileSync(path.join(destination, job.path))).toEqual(fs.readFileSync(path.join(source, job.path)));
    });

    it(`(${how}) once: the next attempt copies the file as it is now, whole`, async () => {
      const { source, destination } = await makeRoots();
      fs.writeFileSync(path.join(source, 'moving.bin'), Buffer.alloc(1_000_000, 7));
      vi.stubEnv('FOLDERCOPY_TEST_REWRITE_DURING_READ', `moving.bin:once:${how}`);
      const done = await runPool(source, destination, 1, [[{ kind: 'file', path: 'moving.bin' }]]);

      expect(done.map((d) => d.error)).toEqual([null]);
      expect(fs.readFileSync(path.join(destination, 'moving.bin'))).toEqual(fs.readFileSync(path.join(source, 'moving.bin')));
      expect(fs.statSync(path.join(source, 'moving.bin')).size).not.toBe(1_000_000);
    });
  }
});

describe('work shared out at the pace measured', () => {
  it('on a mount where each request waits, a few hundred files submitted at once keep all workers busy', async () => {
    const { source, destination } = await makeRoots();
    const jobLog = path.join(destination, '..', 'jobs.log');
    // 5 ms per open (two a file): 200 files would hold one worker for 2 s.
    vi.stubEnv('FOLDERCOPY_TEST_SLOW_OPEN', `5:${jobLog}`);
    const jobs = makeFiles(source, 200);

    const done = await runPool(source, destination, 4, [jobs]);

    expect(done.filter((d) => d.error !== null)).toEqual([]);
    expect(fs.readdirSync(destination)).toHaveLength(200);
    const perWorker = new Map<string, number>();
    for (const pid of fs.readFileSync(jobLog, 'utf8').trim().split('\n')) perWorker.set(pid, (perWorker.get(pid) ?? 0) + 1);
    expect(perWorker.size).toBe(4);
    // Each did a real share: no worker sat idle while one held the batch.
    for (const count of perWorker.values()) expect(count).toBeGreaterThanOrEqual(15);
  }, 30_000);
});

describe('pool size', () => {
  it('a usage error ends the CLI at once (exit 2), leaving no process behind', async () => {
    const root = await tempDir();
    const mark = `FOLDERCOPY_TEST_RUN=${path.basename(root)}`;

    const result = await runCli([path.join(root, 'missing'), path.join(root, 'copy')], { env: { FOLDERCOPY_TEST_RUN: path.basename(root) } });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/source not found/);
    // A worker still booting when the CLI exits would leave once it sees the closed channel.
    for (let waited = 0; processesWithEnv(mark).length > 0 && waited < 2000; waited += 50) await sleep(50);
    expect(processesWithEnv(mark).map(processCommandLine)).toEqual([]);
  });


  it('a small copy forks no worker: the parent copies it itself, whole, before one could boot', async () => {
    const root = await tempDir();
    const demo = path.join(REPO_ROOT, 'fixtures', 'demo');
    const copy = path.join(root, 'copy');

    const { result, seen } = await runWatchingForks([demo, copy]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(diffTrees(await snapshotTree(demo), await snapshotTree(copy), { mtimePrecision: 'ns' })).toEqual([]);
    expect(seen).toEqual([]);
  });

  const noReflinks = reflinkUnavailable();
  it.skipIf(noReflinks !== undefined)(`where the file system clones, the parent clones large files itself: no worker is forked for them${noReflinks ? ` (skipped: ${noReflinks})` : ''}`, async () => {
    const mount = reflinkMount();
    try {
      const source = path.join(mount.dir, 'source');
      fs.mkdirSync(source);
      // Over the 8 MiB that sends a file alone, written (not sparse).
      for (const [n, byte] of [[0, 1], [1, 2]]) fs.writeFileSync(path.join(source, `big${n}.bin`), Buffer.alloc(9 * 1024 * 1024, byte));
      fs.writeFileSync(path.join(source, 'small.txt'), 'small\n');
      const copy = path.join(mount.dir, 'copy');

      const { result, seen } = await runWatchingForks([source, copy]);

      expect(result.exitCode, result.stderr).toBe(0);
      expect(diffTrees(await snapshotTree(source), await snapshotTree(copy), { mtimePrecision: 'ns' })).toEqual([]);
      expect(seen).toEqual([]);
      expect(sharesBlocks(path.join(copy, 'big0.bin'))).toBe(true);
    } finally {
      mount.unmount();
    }
  });

  it('a large file the parent cannot clone (ext4) goes back to the queue and a forked worker copies it, whole', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    fs.mkdirSync(source);
    fs.writeFileSync(path.join(source, 'big.bin'), Buffer.alloc(9 * 1024 * 1024, 7));
    const copy = path.join(root, 'copy');

    const result = await runCli([source, copy]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(diffTrees(await snapshotTree(source), await snapshotTree(copy), { mtimePrecision: 'ns' })).toEqual([]);
    expect(await findTempLeftovers(copy)).toEqual([]);
  });

  it('-j 3 runs exactly 3 worker processes, never more at once, and none is left afterwards', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    // 1,500 files, each written out to the disk and read back (--verify): jobs of a millisecond or so
    // that wait on the disk, so the work outlasts three workers' start-ups, and a third worker, beyond
    // the two cores, finds them idle. (Small files that only keep a core busy, as on a plain copy, are
    // worth a third worker only while other work leaves the cores idle, which a busy test run does not.)
    for (let d = 0; d < 15; d++) {
      fs.mkdirSync(path.join(source, `d${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(source, `d${d}`, `f${f}.txt`), `${d}/${f}\n`);
    }

    const started = startCli(['-j', '3', '--verify', source, path.join(root, 'copy')]);
    const cliPid = started.child.pid!;
    const seen = new Set<number>();
    let mostAtOnce = 0;
    let exited = false;
    started.child.once('exit', () => (exited = true));
    while (!exited) {
      const workers = listDescendants(cliPid).filter((pid) => processCommandLine(pid)?.includes('worker.js') && isAlive(pid));
      for (const pid of workers) seen.add(pid);
      mostAtOnce = Math.max(mostAtOnce, workers.length);
      await sleep(10);
    }
    const result = await started.result;

    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/copied 1,500 files/);
    expect(mostAtOnce).toBe(3);
    expect([...seen]).toHaveLength(3);
    // The CLI waits for its workers before it exits; a small margin for the kernel to reap them.
    expect((await waitForExit([...seen], 500)).map(processCommandLine)).toEqual([]);
  });
});
