// Two runs into one destination, and what dead runs leave beside it: one run at a time writes (a
// lock beside the destination), a second one is refused with one line naming the first, and a
// later run cleans up after a dead one. Real processes, real files, every process bounded by time.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockPathFor, stagingPathFor } from '../src/shared/names-on-disk.js';
import { isAlive, lockContent } from './helpers/processes.js';
import { runCli, startCli, waitFor, type RunResult, type StartedProcess } from './helpers/run-cli.js';
import { diffTrees, findTempLeftovers, makeTempDir, removeTempDir, snapshotTree, useTempDirs, writeBigTree, writeSparseSource, writeTree, type TreeSnapshot } from './helpers/tree.js';

const tempDir = useTempDirs();

const RUN_TIMEOUT_MS = 60_000;
const lockPath = (dst: string): string => lockPathFor(dst);
const stagingPath = (dst: string, pid: number): string => stagingPathFor(dst, pid, 0);
/** What a run writes in its lock: pid, start time (field 22 of /proc/<pid>/stat) and user. */
const BUSY_LINE = /^foldercopy: another foldercopy run \(pid (\d+), user [^)]+\) is copying into (.+); wait for it to finish or stop it$/;

function stderrLines(stderr: string): string[] {
  return stderr.split('\n').filter(Boolean);
}

/** The pid of a process that has exited and been reaped: no process has it (until the pid is reused). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
  expect(child.status).toBe(0);
  expect(isAlive(child.pid)).toBe(false);
  return child.pid;
}

function killGroup(started: StartedProcess): void {
  started.signalGroup('SIGKILL');
}

// ---------------------------------------------------------------------------
// Shared source trees (read-only for the tests)
// ---------------------------------------------------------------------------


let sharedRoot = '';
/** The big tree (helpers/tree.ts). */
let bigSource = '';
let bigSnapshot: TreeSnapshot;
/** A few files: a copy in a blink. */
let smallSource = '';
let smallSnapshot: TreeSnapshot;
/** A 64 GiB sparse file (a few kB of data): a worker spends many seconds inside it, cheaply. */
let sparseSource = '';

beforeAll(async () => {
  sharedRoot = await makeTempDir();
  bigSource = path.join(sharedRoot, 'big');
  writeBigTree(bigSource);
  bigSnapshot = await snapshotTree(bigSource);

  smallSource = path.join(sharedRoot, 'small');
  await writeTree(smallSource, { 'a.txt': 'a\n', 'sub/b.txt': 'b\n', 'sub/deeper/c.txt': 'c\n' });
  smallSnapshot = await snapshotTree(smallSource);

  sparseSource = path.join(sharedRoot, 'sparse');
  writeSparseSource(sparseSource);
}, 120_000);

afterAll(async () => {
  if (sharedRoot) await removeTempDir(sharedRoot);
});

// ---------------------------------------------------------------------------
// Two runs at once
// ---------------------------------------------------------------------------

describe('two runs into the same destination', () => {
  it('started at once into a new destination: one copies, the other is refused with one line naming it; nothing is left beside the copy', async () => {
    const root = await tempDir();
    const dst = path.join(root, 'copy');
    const first = startCli(['-j', '2', bigSource, dst], { timeoutMs: RUN_TIMEOUT_MS });
    const second = startCli(['-j', '2', bigSource, dst], { timeoutMs: RUN_TIMEOUT_MS });
    let results: RunResult[];
    try {
      results = await Promise.all([first.result, second.result]);
    } finally {
      killGroup(first);
      killGroup(second);
    }

    const exitCodes = results.map((r) => r.exitCode).sort();
    expect(exitCodes, results.map((r) => r.stderr).join('\n---\n')).toEqual([0, 2]);
    const winner = results[0]!.exitCode === 0 ? first : second;
    const refused = results[0]!.exitCode === 2 ? results[0]! : results[1]!;
    const lines = stderrLines(refused.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(BUSY_LINE);
    expect(BUSY_LINE.exec(lines[0]!)?.slice(1)).toEqual([String(winner.child.pid), dst]);
    expect(refused.stdout).toBe('');

    expect(diffTrees(bigSnapshot, await snapshotTree(dst))).toEqual([]);
    // No staging directory of the refused run, no lock: only the copy.
    expect(fs.readdirSync(root)).toEqual(['copy']);
    expect(await findTempLeftovers(root)).toEqual([]);
  }, 120_000);

  it("a live run's lock: a second run writes nothing (not even its --log), --json says refused, and the lock is left alone; a dry run is not refused", async () => {
    const root = await tempDir();
    const dst = path.join(root, 'copy');
    const log = path.join(root, 'run.log');
    fs.writeFileSync(log, "the other run's log\n");
    // This test's own process stands for the other run: alive, and not the CLI.
    const lock = lockPath(dst);
    const holder = lockContent(process.pid);
    fs.writeFileSync(lock, holder);

    const refused = await runCli(['--json', '--log', log, smallSource, dst], { timeoutMs: RUN_TIMEOUT_MS });

    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toBe(`foldercopy: another foldercopy run (pid ${process.pid}, user ${os.userInfo().username}) is copying into ${dst}; wait for it to finish or stop it\n`);
    expect(JSON.parse(refused.stdout)).toMatchObject({ status: 'refused', exitCode: 2, error: { code: 'DESTINATION_BUSY', path: dst } });
    expect(fs.readdirSync(root).sort()).toEqual(['.copy.foldercopy-lock', 'run.log']);
    expect(fs.readFileSync(log, 'utf8')).toBe("the other run's log\n");
    expect(fs.readFileSync(lock, 'utf8')).toBe(holder);

    // Into an existing destination too: the same line, and the destination is untouched.
    fs.mkdirSync(dst);
    fs.writeFileSync(path.join(dst, 'keep.txt'), 'keep\n');
    // --max-delete: past the --delete guard (keep.txt is not in the source), to the lock.
    const again = await runCli(['--delete', '--max-delete', '100', smallSource, dst], { timeoutMs: RUN_TIMEOUT_MS });
    expect(again.exitCode).toBe(2);
    expect(stderrLines(again.stderr)).toEqual([`foldercopy: another foldercopy run (pid ${process.pid}, user ${os.userInfo().username}) is copying into ${dst}; wait for it to finish or stop it`]);
    expect(fs.readdirSync(dst)).toEqual(['keep.txt']);

    const dryRun = await runCli(['--dry-run', smallSource, dst], { timeoutMs: RUN_TIMEOUT_MS });
    expect(dryRun.exitCode, dryRun.stderr).toBe(0);
    expect(fs.readdirSync(dst)).toEqual(['keep.txt']);
    expect(fs.readFileSync(lock, 'utf8')).toBe(holder);
  });
});

// ---------------------------------------------------------------------------
// What dead runs leave
// ---------------------------------------------------------------------------

describe('a later run cleans what a dead run left', () => {
  for (const [what, content, ageMs] of [
    ['holding the pid of a process that has exited', () => `${deadPid()}\n`, 0],
    ['empty and a minute old (its run died before writing its pid)', () => '', 60_000],
    ['garbled and a minute old', () => 'not a pid\n', 60_000],
  ] as const) {
    it(`a lock ${what} does not block a new run, and is gone afterwards`, async () => {
      const root = await tempDir();
      const dst = path.join(root, 'copy');
      const lock = lockPath(dst);
      fs.writeFileSync(lock, content());
      const then = new Date(Date.now() - ageMs);
      fs.utimesSync(lock, then, then);

      const result = await runCli([smallSource, dst], { timeoutMs: RUN_TIMEOUT_MS });

      expect(result.exitCode, result.stderr).toBe(0);
      expect(diffTrees(smallSnapshot, await snapshotTree(dst))).toEqual([]);
      expect(fs.readdirSync(root)).toEqual(['copy']);
    });
  }

  it('a lock just created and still empty (a run starting) refuses, with one line', async () => {
    const root = await tempDir();
    const dst = path.join(root, 'copy');
    fs.writeFileSync(lockPath(dst), '');

    const result = await runCli([smallSource, dst], { timeoutMs: RUN_TIMEOUT_MS });

    expect(result.exitCode).toBe(2);
    expect(stderrLines(result.stderr)).toEqual([`foldercopy: another foldercopy run is copying into ${dst}; wait for it to finish or stop it`]);
    expect(fs.readdirSync(root)).toEqual(['.copy.foldercopy-lock']);
  });

  it('staging left by dead runs beside an existing destination is removed by the next run; a live run\'s is left alone', async () => {
    const root = await tempDir();
    const dst = path.join(root, 'copy');
    expect((await runCli([smallSource, dst], { timeoutMs: RUN_TIMEOUT_MS })).exitCode).toBe(0);
    const dead = [deadPid(), deadPid()].map((pid) => stagingPath(dst, pid));
    for (const staging of dead) await writeTree(staging, { 'a.txt': 'a\n', 'sub/b.txt': 'half', 'sub/deeper/c.txt': 'c\n' });
    // This test's own process stands for a live run that staged a copy of its own.
    const live = stagingPath(dst, process.pid);
    await writeTree(live, { 'x.txt': 'x\n' });
    // Not ours: other names that only look alike.
    const unrelated = [path.join(root, '.copy.12x.foldercopy-part'), path.join(root, '.copy2.1.foldercopy-part')];
    for (const dir of unrelated) fs.mkdirSync(dir);

    const result = await runCli([smallSource, dst], { timeoutMs: RUN_TIMEOUT_MS });

    expect(result.exitCode, result.stderr).toBe(0);
    expect(fs.readdirSync(root).sort()).toEqual(['.copy.12x.foldercopy-part', `.copy.${process.pid}.foldercopy-part`, '.copy2.1.foldercopy-part', 'copy'].sort());
    expect(fs.readdirSync(live)).toEqual(['x.txt']);
    expect(diffTrees(smallSnapshot, await snapshotTree(dst))).toEqual([]);
  });

  it('a run killed with SIGKILL leaves its lock and staged copy; the next run takes both over, finishes, and leaves nothing beside the copy', async () => {
    const root = await tempDir();
    const dst = path.join(root, 'copy');
    const started = startCli(['-j', '2', bigSource, dst], { timeoutMs: RUN_TIMEOUT_MS });
    try {
      await waitFor(() => fs.existsSync(path.join(stagingPath(dst, started.child.pid!), 'd001')), {
        timeoutMs: 30_000,
        description: 'the staged copy under way',
      });
      expect(fs.readFileSync(lockPath(dst), 'utf8')).toBe(lockContent(started.child.pid!));
      started.signalGroup('SIGKILL');
      await started.result;
    } finally {
      killGroup(started);
    }
    expect(fs.existsSync(lockPath(dst))).toBe(true);

    const result = await runCli(['-j', '2', bigSource, dst], { timeoutMs: RUN_TIMEOUT_MS });

    expect(result.exitCode, result.stderr).toBe(0);
    expect(diffTrees(bigSnapshot, await snapshotTree(dst))).toEqual([]);
    expect(fs.readdirSync(root)).toEqual(['copy']);
  }, 120_000);

  it('a second Ctrl-C (process.exit) still removes the lock; the staged copy stays for the next run', async () => {
    const root = await tempDir();
    const dst = path.join(root, 'copy');
    const started = startCli(['-j', '2', sparseSource, dst], { timeoutMs: RUN_TIMEOUT_MS });
    let result: RunResult;
    try {
      const staging = stagingPath(dst, started.child.pid!);
      // A worker is deep in the 64 GiB sparse file: the first Ctrl-C waits for it, the second does not.
      await waitFor(() => fs.existsSync(path.join(staging, 'disk.img')), { timeoutMs: 30_000, description: 'the large file in flight' });
      expect(fs.readFileSync(lockPath(dst), 'utf8')).toBe(lockContent(started.child.pid!));
      started.signalGroup('SIGINT');
      await waitFor(() => started.stderrSoFar().includes('interrupted'), { timeoutMs: 10_000, description: 'the first Ctrl-C noticed' });
      started.signalGroup('SIGINT');
      result = await started.result;
    } finally {
      killGroup(started);
    }

    expect(result.exitCode).toBe(130);
    expect(result.stderr).toMatch(/stopped at once/);
    expect(fs.readdirSync(root)).toEqual([`.copy.${started.child.pid}.foldercopy-part`]);
  });
});
