// "Safe under every fault": what a user finds after a copy was killed, interrupted, lost a worker,
// met unreadable or vanishing entries, or ran out of room. Real files, the real CLI, real signals.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFolder } from '../dist/index.js';
import { endsLikeOurName, isTempName, parseTempName, stagingPidOf } from '../src/shared/names-on-disk.js';
import { isAlive, listDescendants, processCommandLine, waitForExit } from './helpers/processes.js';
import { CLI_PATH, describeIfRoot, isRoot, runCli, runInPty, startCli, waitFor, type StartedProcess } from './helpers/run-cli.js';
import {
  BIG_TREE,
  diffTrees,
  findTempLeftovers,
  listFilesRecursive,
  makeTempDir,
  removeTempDir,
  snapshotTree,
  useTempDirs,
  writeBigTree,
  writeSparseSource,
  writeTree,
  type TreeSnapshot,
} from './helpers/tree.js';

const tempDir = useTempDirs();

const MiB = 1024 * 1024;
const NO_STACK_TRACE = /^\s+at /m;
// The bounds are 2 s (exit after Ctrl-C) and 1 s (workers after the parent dies); measured
// from the signal on a noisy 2-core machine, with this much tolerance on top.
const CTRL_C_EXIT_BOUND_MS = 2_500;
const WORKERS_AFTER_PARENT_BOUND_MS = 1_500;

// ---------------------------------------------------------------------------
// Local helpers
// ---------------------------------------------------------------------------

/** Pids of the CLI's worker processes (forked dist/worker.js). */
function workerPids(cliPid: number): number[] {
  return listDescendants(cliPid).filter((pid) => isAlive(pid) && (processCommandLine(pid)?.includes('worker.js') ?? false));
}

/** A first copy's staging directories beside `dst`. */
function stagingDirectories(dst: string): string[] {
  const names = fs.existsSync(path.dirname(dst)) ? fs.readdirSync(path.dirname(dst)) : [];
  return names.map((n) => path.join(path.dirname(dst), n)).filter((where) => stagingPidOf(dst, where) !== undefined);
}

/** Where a copy to `dst` is being written: `dst`, or, while a first copy runs, its staging directory. */
function copyLocation(dst: string): string {
  return fs.existsSync(dst) ? dst : (stagingDirectories(dst)[0] ?? dst);
}

/** True once some file is written one level below where the copy goes (where the big tree's files are). */
function hasCopiedFile(dst: string): boolean {
  const where = copyLocation(dst);
  let names: string[];
  try {
    names = fs.readdirSync(where);
  } catch {
    return false;
  }
  for (const name of names) {
    try {
      if (fs.readdirSync(path.join(where, name)).some((child) => !endsLikeOurName(child))) return true;
    } catch {
      // Not a directory, or not readable yet.
    }
  }
  return false;
}

/** Names one level below `dir`'s subdirectories (where the big tree's files are); 0 while `dir` is missing. */
function filesBelow(dir: string): number {
  let count = 0;
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    try {
      count += fs.readdirSync(path.join(dir, name)).length;
    } catch {
      // Not a directory.
    }
  }
  return count;
}

/** The 64 GiB sparse file is being written: at its name inside a staged first copy. */
function sparseFileInFlight(dst: string): boolean {
  const where = copyLocation(dst);
  return fs.existsSync(where) && fs.readdirSync(where).some((n) => n === 'disk.img' || parseTempName(n)?.finalName === 'disk.img');
}

/** Resolves with performance.now() when the process exits (not when its pipes close). */
function exitTime(started: StartedProcess): Promise<number> {
  return new Promise((resolve) => started.child.once('exit', () => resolve(performance.now())));
}

/** Samples the descendants of `pid` every 20 ms until stopped; returns every pid seen. */
function sampleDescendants(pid: number): { stop: () => number[] } {
  const seen = new Set<number>();
  const sample = (): void => {
    for (const child of listDescendants(pid)) seen.add(child);
  };
  sample();
  const timer = setInterval(sample, 20);
  return {
    stop: () => {
      clearInterval(timer);
      return [...seen];
    },
  };
}

/**
 * Every regular file under `dst` at a final name must have its source's bytes; every other name
 * must be a temporary name. Returns the problems, one line each. Synchronous and byte-exact.
 */
function partialCopyProblems(src: string, dst: string, rel = ''): string[] {
  const problems: string[] = [];
  for (const entry of fs.readdirSync(path.join(dst, rel), { withFileTypes: true })) {
    const relPath = path.join(rel, entry.name);
    if (isTempName(entry.name)) continue;
    if (entry.isDirectory()) {
      problems.push(...partialCopyProblems(src, dst, relPath));
    } else if (entry.isFile()) {
      const sourceFile = path.join(src, relPath);
      if (!fs.existsSync(sourceFile)) problems.push(`${relPath}: not in the source`);
      else if (!fs.readFileSync(path.join(dst, relPath)).equals(fs.readFileSync(sourceFile))) {
        problems.push(`${relPath}: differs from the source (${fs.statSync(path.join(dst, relPath)).size} of ${fs.statSync(sourceFile).size} bytes)`);
      }
    }
  }
  return problems;
}

/** Stops whatever is left of a started CLI: its group, and workers that may have been re-parented. */
function killAll(started: StartedProcess, workers: readonly number[] = []): void {
  started.signalGroup('SIGKILL');
  for (const pid of workers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function stderrLines(stderr: string): string[] {
  return stderr.split('\n').filter(Boolean);
}

// ---------------------------------------------------------------------------
// Shared source trees (read-only for the tests; a copy never modifies its source)
// ---------------------------------------------------------------------------

const BIG_FILE_COUNT = BIG_TREE.files;
const LARGE_FILES = 6;

let sharedRoot = '';
/** The big tree (helpers/tree.ts). */
let bigSource = '';
let bigSnapshot: TreeSnapshot;
/** 6 files of 48 MiB of random bytes, and 500 small files in sub/. */
let largeSource = '';
/** A 64 GiB sparse file (a few kB of data): a worker spends many seconds inside it, cheaply. */
let sparseSource = '';

beforeAll(async () => {
  sharedRoot = await makeTempDir();
  bigSource = path.join(sharedRoot, 'big');
  writeBigTree(bigSource);
  // Hashing sets atimes once (relatime); the snapshot compared against is taken after that.
  bigSnapshot = await snapshotTree(bigSource);

  largeSource = path.join(sharedRoot, 'large');
  fs.mkdirSync(path.join(largeSource, 'sub'), { recursive: true });
  for (let i = 1; i <= LARGE_FILES; i++) fs.writeFileSync(path.join(largeSource, `large-${i}.bin`), randomBytes(48 * MiB));
  for (let i = 0; i < 500; i++) fs.writeFileSync(path.join(largeSource, 'sub', `s${i}.txt`), `small ${i}\n`);

  sparseSource = path.join(sharedRoot, 'sparse');
  writeSparseSource(sparseSource);
}, 120_000);

afterAll(async () => {
  if (sharedRoot) await removeTempDir(sharedRoot);
});

/**
 * Starts `-j 2 <largeSource> <dst>` into an existing `dst` and SIGKILLs its whole process group the
 * moment one large file is complete and another is still being written: reacting to inotify events,
 * as the 48 MiB files take only tens of milliseconds each here.
 */
async function startLargeCopyAndKillMidway(dst: string): Promise<{ workers: number[] }> {
  fs.mkdirSync(dst);
  const started = startCli(['-j', '2', largeSource, dst]);
  const cliPid = started.child.pid!;
  let workers: number[] = [];
  let killed = false;
  // A temporary file well short of its size is still being written when the SIGKILL lands.
  const writing = (name: string): boolean => {
    if (!isTempName(name)) return false;
    const size = fs.statSync(path.join(dst, name), { throwIfNoEntry: false })?.size;
    return size !== undefined && size < 40 * MiB;
  };
  const check = (): void => {
    if (killed) return;
    const names = fs.readdirSync(dst);
    if (names.some((n) => /^large-\d\.bin$/.test(n)) && names.some(writing)) {
      workers = workerPids(cliPid);
      started.signalGroup('SIGKILL');
      killed = true;
    }
  };
  const watcher = fs.watch(dst, check);
  const poll = setInterval(check, 5);
  try {
    await waitFor(() => killed || started.child.exitCode !== null, { timeoutMs: 30_000, description: 'a large file in flight' });
    const result = await started.result;
    expect(killed, `the copy ended before it could be killed:\n${result.stderr}`).toBe(true);
    expect(result.signal).toBe('SIGKILL');
  } finally {
    watcher.close();
    clearInterval(poll);
    killAll(started);
  }
  return { workers };
}

// ---------------------------------------------------------------------------
// 1. Atomic files
// ---------------------------------------------------------------------------

describe('atomic files', () => {
  it('after SIGKILL of the whole process group mid-copy, every file at a final name is complete', async () => {
    const dst = path.join(await tempDir(), 'copy');

    const { workers } = await startLargeCopyAndKillMidway(dst);

    const names = fs.readdirSync(dst);
    const finals = names.filter((n) => !isTempName(n));
    const temps = names.filter((n) => isTempName(n));
    // Mid-copy: something was complete and something was not.
    expect(finals.filter((n) => n.endsWith('.bin')).length).toBeGreaterThanOrEqual(1);
    expect(finals.filter((n) => n.endsWith('.bin')).length).toBeLessThan(LARGE_FILES);
    expect(temps.length).toBeGreaterThanOrEqual(1);
    for (const name of finals.filter((n) => n.endsWith('.bin'))) {
      expect(fs.readFileSync(path.join(dst, name)).equals(fs.readFileSync(path.join(largeSource, name))), `${name} is partial`).toBe(true);
    }
    expect(partialCopyProblems(largeSource, dst)).toEqual([]);
    // Leftovers only under the temporary pattern, each named after a source file and a worker's pid.
    for (const temp of temps) {
      const { finalName, pid } = parseTempName(temp)!;
      expect(fs.existsSync(path.join(largeSource, finalName)), temp).toBe(true);
      expect(workers, `${temp}: pid of a worker`).toContain(pid);
    }
    expect(names.every((n) => n === 'sub' || finals.includes(n) || temps.includes(n))).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// 2. Ctrl-C and SIGTERM
// ---------------------------------------------------------------------------

describe('Ctrl-C and SIGTERM', () => {
  async function interruptMidCopy(signal: 'SIGINT' | 'SIGTERM', toGroup: boolean) {
    const dst = path.join(await tempDir(), 'copy');
    const started = startCli(['-j', '2', bigSource, dst]);
    const exited = exitTime(started);
    const sampler = sampleDescendants(started.child.pid!);
    try {
      await waitFor(() => hasCopiedFile(dst), { timeoutMs: 30_000, description: 'files at the destination' });
      const signalledAt = performance.now();
      if (toGroup) started.signalGroup(signal);
      else started.child.kill(signal);
      const result = await started.result;
      const descendants = sampler.stop();
      return { dst, result, exitMs: (await exited) - signalledAt, descendants };
    } finally {
      sampler.stop();
      killAll(started);
    }
  }

  for (const [signal, toGroup, code] of [
    ['SIGINT', true, 130],
    ['SIGTERM', false, 143],
  ] as const) {
    it(`${signal} to the ${toGroup ? 'process group (Ctrl-C)' : 'CLI pid'} mid-copy: exit ${code} within 2 s, partial summary, no temp file, no process left`, async () => {
      const { dst, result, exitMs, descendants } = await interruptMidCopy(signal, toGroup);

      expect(result.exitCode, result.stderr).toBe(code);
      expect(exitMs).toBeLessThan(CTRL_C_EXIT_BOUND_MS);
      expect(result.stderr).toMatch(/^foldercopy: interrupted after copying [\d,]+ files?, /m);
      expect(result.stderr).not.toMatch(NO_STACK_TRACE);
      expect(await findTempLeftovers(dst)).toEqual([]);
      // The staged first copy was moved into place, with what it had.
      expect(stagingDirectories(dst)).toEqual([]);
      // It was stopped, not finished, and what it did copy is right.
      expect((await listFilesRecursive(dst)).length).toBeLessThan(BIG_FILE_COUNT);
      expect(partialCopyProblems(bigSource, dst)).toEqual([]);
      // Workers were seen while it ran, and the CLI waited for them: a little margin for reaping.
      expect(descendants.length).toBeGreaterThanOrEqual(1);
      expect((await waitForExit(descendants, 250)).map(processCommandLine)).toEqual([]);
    });
  }

  /** Starts a copy of the sparse tree and waits until a worker is inside the 64 GiB file. */
  async function startBusyCopy(): Promise<{ started: StartedProcess; dst: string; exited: Promise<number> }> {
    const dst = path.join(await tempDir(), 'copy');
    const started = startCli(['-j', '2', sparseSource, dst]);
    const exited = exitTime(started);
    try {
      await waitFor(() => sparseFileInFlight(dst), { timeoutMs: 30_000, description: 'the large sparse file in flight' });
    } catch (error) {
      killAll(started);
      throw error;
    }
    return { started, dst, exited };
  }

  it('Ctrl-C while a worker is deep in a large file: exit 130 within 2 s, its temporary file removed, no worker left', async () => {
    const { started, dst, exited } = await startBusyCopy();
    const workers = workerPids(started.child.pid!);
    try {
      const signalledAt = performance.now();
      started.signalGroup('SIGINT');
      const result = await started.result;

      expect(result.exitCode, result.stderr).toBe(130);
      expect((await exited) - signalledAt).toBeLessThan(CTRL_C_EXIT_BOUND_MS);
      expect(result.stderr).toMatch(/^foldercopy: interrupted after copying /m);
      expect(workers.length).toBeGreaterThanOrEqual(1);
      expect((await waitForExit(workers, 250)).map(processCommandLine)).toEqual([]);
      expect(await findTempLeftovers(dst)).toEqual([]);
      expect(stagingDirectories(dst)).toEqual([]);
      expect(fs.existsSync(path.join(dst, 'disk.img'))).toBe(false);
    } finally {
      killAll(started, workers);
    }
  });

  it('a second Ctrl-C exits at once (130), well before the first would have, and leaves no worker behind', async () => {
    // The reference: how long a single Ctrl-C takes with a worker busy in a large file.
    const single = await startBusyCopy();
    let singleMs: number;
    try {
      const at = performance.now();
      single.started.signalGroup('SIGINT');
      await single.started.result;
      singleMs = (await single.exited) - at;
    } finally {
      killAll(single.started);
    }

    const { started, exited } = await startBusyCopy();
    const workers = workerPids(started.child.pid!);
    try {
      started.signalGroup('SIGINT');
      await sleep(100);
      const secondAt = performance.now();
      started.signalGroup('SIGINT');
      const result = await started.result;
      const secondMs = (await exited) - secondAt;

      expect(result.exitCode, result.stderr).toBe(130);
      expect(result.stderr).toMatch(/^foldercopy: stopped at once$/m);
      expect(secondMs).toBeLessThan(500);
      expect(secondMs + 100).toBeLessThan(singleMs / 2);
      // "Workers exit on their own when the IPC channel closes" (cli.ts).
      expect(workers.length).toBeGreaterThanOrEqual(1);
      expect((await waitForExit(workers, WORKERS_AFTER_PARENT_BOUND_MS)).map(processCommandLine)).toEqual([]);
    } finally {
      killAll(started, workers);
    }
  });

  it('Ctrl-C under a terminal: the cursor is shown again and the output ends with a newline', async () => {
    const dst = path.join(await tempDir(), 'copy');
    // Inside the terminal's session: the copy runs in the foreground (exec keeps the shell's pid, so
    // its process group is $$), and a background job sends SIGINT to that group once files are
    // copied, as Ctrl-C does. Background jobs of a non-interactive shell ignore SIGINT themselves.
    const script = `
      dst=$4
      (
        tries=0
        while [ -z "$(find "$(dirname "$dst")" -type f -name 'f*' -print -quit 2>/dev/null)" ] && [ $tries -lt 600 ]; do
          sleep 0.05; tries=$((tries + 1))
        done
        kill -INT -$$
      ) &
      exec "$1" "$2" -j 2 "$3" "$4"`;

    const result = await runInPty(['sh', '-c', script, 'sh', process.execPath, CLI_PATH, bigSource, dst], { timeoutMs: 60_000 });

    expect(result.exitCode, result.output).toBe(130);
    expect(result.output).toContain('interrupted after copying');
    const hidden = result.output.lastIndexOf('\x1b[?25l');
    expect(hidden, 'the progress bar hid the cursor').toBeGreaterThanOrEqual(0);
    expect(result.output.lastIndexOf('\x1b[?25h')).toBeGreaterThan(hidden);
    expect(result.output.endsWith('\n')).toBe(true);
    expect(await findTempLeftovers(dst)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// 3. Resume
// ---------------------------------------------------------------------------

describe('resume', () => {
  it('re-running after a SIGKILL of the whole group completes the copy and sweeps the leftovers', async () => {
    const dst = path.join(await tempDir(), 'copy');
    await startLargeCopyAndKillMidway(dst);
    // The kill left temporary files behind for the re-run to sweep.
    expect((await findTempLeftovers(dst)).length).toBeGreaterThanOrEqual(1);

    const result = await runCli(['-j', '2', largeSource, dst]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/0 failed/);
    expect(await findTempLeftovers(dst)).toEqual([]);
    expect(diffTrees(await snapshotTree(largeSource), await snapshotTree(dst))).toEqual([]);
  });
});

describe('resume of a first copy', () => {
  it('after a SIGKILL of the whole group, nothing is at the destination; a re-run adopts the staged copy, redoes a half-written file, and finishes', async () => {
    const dst = path.join(await tempDir(), 'copy');
    const started = startCli(['-j', '2', bigSource, dst]);
    try {
      // Entries appear at their names in a staged copy as soon as they are created: wait for a few thousand.
      await waitFor(() => filesBelow(copyLocation(dst)) >= 3000, { timeoutMs: 30_000, description: 'files in the staged copy' });
      started.signalGroup('SIGKILL');
      await started.result;
    } finally {
      killAll(started);
    }
    // A first copy is staged: nothing at all under the destination's name until it ends.
    expect(fs.existsSync(dst)).toBe(false);
    const [staging] = stagingDirectories(dst);
    expect(staging).toBeDefined();
    // As a kill in the middle of a write leaves it: short, with the time of the write.
    const halfWritten = path.join(staging!, 'd000', 'f6.txt');
    fs.mkdirSync(path.dirname(halfWritten), { recursive: true });
    fs.writeFileSync(halfWritten, 'file');

    // --ignore-existing would keep whatever is there: not in a copy nobody has seen finished.
    const result = await runCli(['-j', '2', '--ignore-existing', bigSource, dst]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/; [1-9][\d,]* skipped, 0 failed/);
    expect(stagingDirectories(dst)).toEqual([]);
    expect(diffTrees(bigSnapshot, await snapshotTree(dst))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// 4. A worker dies; 5. the parent dies
// ---------------------------------------------------------------------------

describe('a worker dies', () => {
  it('SIGKILL of one worker mid-copy: exit 0, the copy is identical, no temporary file', async () => {
    const dst = path.join(await tempDir(), 'copy');
    const started = startCli(['-j', '2', bigSource, dst]);
    const cliPid = started.child.pid!;
    try {
      await waitFor(() => hasCopiedFile(dst) && workerPids(cliPid).length === 2, {
        timeoutMs: 30_000,
        description: 'two workers and files at the destination',
      });
      const [victim] = workerPids(cliPid);
      process.kill(victim!, 'SIGKILL');
      const result = await started.result;

      expect(isAlive(victim!)).toBe(false);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stderr).toMatch(new RegExp(`copied ${BIG_FILE_COUNT.toLocaleString('en-US')} files, .*0 failed`));
      expect(await findTempLeftovers(dst)).toEqual([]);
      expect(diffTrees(bigSnapshot, await snapshotTree(dst))).toEqual([]);
    } finally {
      killAll(started);
    }
  });
});

describe('the parent dies', () => {
  it('SIGKILL of the CLI alone mid-copy: every worker exits within 1 s', async () => {
    const dst = path.join(await tempDir(), 'copy');
    const started = startCli(['-j', '2', bigSource, dst]);
    const cliPid = started.child.pid!;
    let workers: number[] = [];
    try {
      await waitFor(() => hasCopiedFile(dst) && workerPids(cliPid).length === 2, {
        timeoutMs: 30_000,
        description: 'two workers and files at the destination',
      });
      workers = workerPids(cliPid);
      process.kill(cliPid, 'SIGKILL');

      expect((await waitForExit(workers, WORKERS_AFTER_PARENT_BOUND_MS)).map(processCommandLine)).toEqual([]);
      // Killed mid first copy: the copy stays under its staging name, for the next run to adopt.
      expect(fs.existsSync(dst)).toBe(false);
      expect(stagingDirectories(dst)).toHaveLength(1);
      expect(partialCopyProblems(bigSource, stagingDirectories(dst)[0]!)).toEqual([]);
    } finally {
      killAll(started, workers);
    }
  });

  it('SIGKILL of the CLI alone while a worker is deep in a large file: the worker exits within 1 s', async () => {
    const dst = path.join(await tempDir(), 'copy');
    const started = startCli(['-j', '2', sparseSource, dst]);
    const cliPid = started.child.pid!;
    let workers: number[] = [];
    try {
      await waitFor(() => sparseFileInFlight(dst), { timeoutMs: 30_000, description: 'the large sparse file in flight' });
      workers = workerPids(cliPid);
      process.kill(cliPid, 'SIGKILL');

      expect(workers.length).toBeGreaterThanOrEqual(1);
      expect((await waitForExit(workers, WORKERS_AFTER_PARENT_BOUND_MS)).map(processCommandLine)).toEqual([]);
      // The worker removed the half-written file on its way out.
      const staging = copyLocation(dst);
      expect(fs.existsSync(path.join(staging, 'disk.img'))).toBe(false);
      expect(await findTempLeftovers(staging)).toEqual([]);
    } finally {
      killAll(started, workers);
    }
  });
});

// ---------------------------------------------------------------------------
// 6. Per-file failures
// ---------------------------------------------------------------------------

describe('per-file failures', () => {
  it.skipIf(!isRoot())(
    `an unreadable file and an unreadable directory (as nobody): one line each, the rest copied, exit 1${isRoot() ? '' : ' [skipped: needs root to run as nobody]'}`,
    async () => {
      const root = await tempDir();
      fs.chmodSync(root, 0o755);
      const source = path.join(root, 'source');
      await writeTree(source, {
        'a.txt': 'a\n',
        'sub/b.txt': 'b\n',
        'sub/deeper/c.txt': 'c\n',
        secret: { type: 'file', content: 'top secret\n', mode: 0o000 },
        'locked/inside.txt': 'hidden by its directory\n',
        'z-last.txt': 'after the failures\n',
      });
      fs.chmodSync(path.join(source, 'locked'), 0o000);
      const out = path.join(root, 'out');
      fs.mkdirSync(out);
      fs.chownSync(out, 65534, 65534);
      const dst = path.join(out, 'copy');
      const before = await snapshotTree(source);

      const result = await runCli([source, dst], { asUser: 'nobody' });

      expect(result.exitCode, result.stderr).toBe(1);
      const failures = stderrLines(result.stderr).filter((line) => / \([A-Z_]+\)$/.test(line));
      expect(failures.sort()).toEqual([
        `foldercopy: cannot list directory: ${source}/locked: permission denied (EACCES)`,
        `foldercopy: cannot read: ${source}/secret: permission denied (EACCES)`,
      ]);
      expect(result.stderr).toMatch(/^foldercopy: copied 4 files, .*; 0 skipped, 2 failed$/m);
      expect(result.stderr).not.toMatch(NO_STACK_TRACE);
      // Everything else is there (owners differ: nobody cannot give files away).
      expect(diffTrees(before, await snapshotTree(dst), { ignore: ['owner'] })).toEqual(['locked/inside.txt: missing', 'secret: missing']);
      expect(await findTempLeftovers(dst)).toEqual([]);
    },
  );

  it('a destination path longer than PATH_MAX is still written, as rsync -a does: each entry is named from its own directory', async () => {
    const root = await tempDir();
    // Source paths stay under PATH_MAX (4096): 18 nested directories of 200 bytes below a short root.
    const source = path.join(root, 's');
    const deep = Array.from({ length: 18 }, (_, i) => `${String(i).padStart(2, '0')}${'d'.repeat(198)}`).join('/');
    const longNames = [1, 2].map((i) => `long-${i}-${'n'.repeat(240)}.txt`);
    await writeTree(source, {
      'top.txt': 'top\n',
      [`${deep}/short.txt`]: 'short name, fits\n',
      [`${deep}/${longNames[0]}`]: 'too long a path at the destination\n',
      [`${deep}/${longNames[1]}`]: 'too long a path at the destination, too\n',
    });
    // The destination's prefix pushes only the long names past PATH_MAX.
    const dst = path.join(root, 'p'.repeat(250), 'q'.repeat(60), 'copy');
    expect(path.join(source, deep, longNames[0]!).length).toBeLessThan(4096);
    expect(path.join(dst, deep, longNames[0]!).length).toBeGreaterThan(4096);
    try {
      const result = await runCli([source, dst]);

      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/^foldercopy: copied 4 files, 19 directories, .*; 0 skipped, 0 failed$/m);
      // Read back below PATH_MAX: from inside the deepest directory, as the copy was written.
      const bytes = (top: string, name: string): string =>
        execFileSync('sh', ['-c', 'cd "$1" && cd "$2" && cat "$3"', 'sh', top, deep, name], { encoding: 'utf8' });
      for (const name of ['short.txt', ...longNames]) expect(bytes(dst, name), name).toBe(bytes(source, name));
      expect(execFileSync('sh', ['-c', 'cd "$1" && cd "$2" && ls -A', 'sh', dst, deep], { encoding: 'utf8' }).split('\n').filter(Boolean).sort()).toEqual(
        [...longNames, 'short.txt'].sort(),
      );
    } finally {
      // Node's fs.rm walks by full path, which is too long here; rm(1) walks by directory.
      execFileSync('rm', ['-rf', '--', path.join(root, 'p'.repeat(250))]);
    }
  });
});

// ---------------------------------------------------------------------------
// 7. Destination failures
// ---------------------------------------------------------------------------

describeIfRoot('destination failures (tmpfs mounts)', () => {
  /** Mounts a tmpfs at a fresh directory, runs `body`, and unmounts whatever happens. */
  async function withTmpfs(options: string, body: (mountPoint: string, root: string) => Promise<void>): Promise<void> {
    const root = await tempDir();
    const mountPoint = path.join(root, 'mnt');
    fs.mkdirSync(mountPoint);
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', mountPoint]);
    try {
      await body(mountPoint, root);
    } finally {
      execFileSync('umount', ['--lazy', mountPoint]);
    }
  }

  it('a full destination stops the copy with one ENOSPC line; no temp file, no partial file', async () => {
    await withTmpfs('size=2m', async (mountPoint, root) => {
      const source = path.join(root, 'source');
      const tree: Record<string, Buffer> = {};
      for (let i = 0; i < 20; i++) tree[`dir${i % 3}/file-${i}.bin`] = randomBytes(512 * 1024);
      await writeTree(source, tree);
      const dst = path.join(mountPoint, 'copy');

      const result = await runCli(['-j', '2', source, dst]);

      expect(result.exitCode, result.stderr).toBe(1);
      const stopped = stderrLines(result.stderr).filter((line) => line.includes('copy stopped'));
      expect(stopped).toHaveLength(1);
      expect(stopped[0]).toMatch(/^foldercopy: copy stopped: [a-z ,]+: (\/.+): no space left on device \(ENOSPC\)$/);
      expect(stopped[0]).toContain(`: ${dst}`);
      expect(stderrLines(result.stderr).filter((line) => line.includes('ENOSPC'))).toHaveLength(1);
      expect(result.stderr).not.toMatch(NO_STACK_TRACE);
      expect(await findTempLeftovers(mountPoint)).toEqual([]);
      expect(partialCopyProblems(source, dst)).toEqual([]);
    });
  });

  for (const [what, destination] of [
    ['the mount itself', ''],
    ['a new directory on it', 'new/copy'],
  ] as const) {
    it(`a read-only destination (${what}) is refused before copying with one EROFS line (exit 2); --json says refused`, async () => {
      await withTmpfs('size=2m', async (mountPoint, root) => {
        const source = path.join(root, 'source');
        await writeTree(source, { 'a.txt': 'a\n', 'sub/b.txt': 'b\n', 'sub/c.txt': 'c\n' });
        if (destination.startsWith('new/')) fs.mkdirSync(path.join(mountPoint, 'new'));
        execFileSync('mount', ['-o', 'remount,ro', mountPoint]);
        const target = path.join(mountPoint, destination);

        const result = await runCli([source, target]);
        const json = await runCli([source, target, '--json']);

        expect(result.exitCode, result.stderr).toBe(2);
        const where = destination === '' ? mountPoint : path.dirname(target);
        expect(result.stderr).toBe(`foldercopy: cannot write into the destination: ${where}: read-only file system (EROFS)\n`);
        expect(JSON.parse(json.stdout)).toMatchObject({ status: 'refused', exitCode: 2, error: { code: 'DESTINATION_UNWRITABLE', path: where } });
        expect(fs.readdirSync(mountPoint)).toEqual(destination === '' ? [] : ['new']);
      });
    });
  }
});

// ---------------------------------------------------------------------------
// 9. Links are copied as links, never followed
// ---------------------------------------------------------------------------

describe('symlinks', () => {
  it('a symlink loop and links pointing outside the tree are copied as links and never followed', async () => {
    const root = await tempDir();
    const outside = path.join(root, 'outside');
    await writeTree(outside, { 'treasure.txt': 'must not be copied\n', 'nested/more.txt': 'nor this\n' });
    const source = path.join(root, 'source');
    await writeTree(source, [
      { path: 'file.txt', type: 'file', content: 'inside\n' },
      { path: 'loop-a', type: 'symlink', target: 'loop-b' },
      { path: 'loop-b', type: 'symlink', target: 'loop-a' },
      { path: 'self', type: 'symlink', target: 'self' },
      { path: 'dir/up', type: 'symlink', target: '..' },
      { path: 'out-absolute', type: 'symlink', target: outside },
      { path: 'out-relative', type: 'symlink', target: '../outside' },
    ]);
    const before = await snapshotTree(source);
    const dst = path.join(root, 'copy');

    const result = await runCli([source, dst], { timeoutMs: 20_000 });

    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/copied 1 file, 2 directories, 6 symlinks, .*0 skipped, 0 failed/);
    expect(diffTrees(before, await snapshotTree(dst))).toEqual([]);
    const copied = (await listFilesRecursive(dst)).map(String);
    expect(copied.filter((p) => /treasure|more\.txt/.test(p))).toEqual([]);
    expect(fs.readlinkSync(path.join(dst, 'out-absolute'))).toBe(outside);
  });

  it('a directory replaced by a symlink after its parent was listed is reported (ECHANGED), never followed', async () => {
    const root = await tempDir();
    const outside = path.join(root, 'outside');
    await writeTree(outside, { 'treasure.txt': 'must not be copied\n' });
    const source = path.join(root, 'source');
    await writeTree(source, { 'file.txt': 'inside\n', 'sub/inner.txt': 'inner\n' });
    const dst = path.join(root, 'copy');

    // The root's listing is planned (and its directory made) before any subdirectory is read.
    const summary = await copyFolder(source, dst, {
      onEntry: (event) => {
        if (event.path !== '.') return;
        fs.rmSync(path.join(source, 'sub'), { recursive: true });
        fs.symlinkSync(outside, path.join(source, 'sub'));
      },
    });

    expect(summary.failures).toEqual([
      { path: path.join(source, 'sub'), entry: 'sub', code: 'ECHANGED', operation: 'list', message: 'it is no longer a directory' },
    ]);
    expect(fs.readdirSync(dst)).toEqual(['file.txt']);
    expect(fs.readdirSync(outside)).toEqual(['treasure.txt']);
  });
});
