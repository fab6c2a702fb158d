// A planned --delete with --backup (or --backup-dir) keeps what it deletes, and what its parts replace,
// as an ordinary `--delete --backup` run keeps them: the same two destinations, one copied by the real
// CLI in one run, the other by a plan, its parts and its finalize, must end up the same, backups and all.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { check, finalize, makePlan, planCli, runParts } from './helpers/planned-run.js';
import { diffTrees, snapshotTree, useTempDirs, writeTree } from './helpers/tree.js';

const tempDir = useTempDirs();
const T0 = 1_600_000_000_123_456_789n;
const T1 = 1_500_000_000_000_000_000n;

/** A source, and two destinations that are the same earlier copy of it: one file changed since, a file and a directory the source no longer has. */
async function twoDestinations(): Promise<{ root: string; source: string; ordinary: string; planned: string }> {
  const root = await tempDir();
  const source = path.join(root, 'src');
  await writeTree(source, { 'a.txt': { type: 'file', content: 'alpha\n', mtime: T0 }, 'd/b.txt': { type: 'file', content: 'bravo v2\n', mtime: T0 }, 'd/c.txt': 'charlie\n' });
  const ordinary = path.join(root, 'ordinary');
  const planned = path.join(root, 'planned');
  for (const destination of [ordinary, planned]) {
    expect((await planCli(['-q', source, destination])).exitCode).toBe(0);
    await writeTree(destination, {
      'd/b.txt': { type: 'file', content: 'bravo v1\n', mtime: T1 },
      'old.txt': { type: 'file', content: 'old\n', mtime: T1 },
      'gone/x.txt': { type: 'file', content: 'x\n', mtime: T1 },
      'gone/y.lnk': { type: 'symlink', target: 'x.txt' },
    });
  }
  return { root, source, ordinary, planned };
}

/** The planned copy with `options`, end to end; its finalize's stderr. */
async function plannedCopy(root: string, source: string, destination: string, options: readonly string[]): Promise<string> {
  const { run, made } = await makePlan(root, { source, destination, parts: 2, extra: ['--delete', '--max-delete', '10', ...options] });
  expect(made.stderr).toMatch(/^foldercopy: planned /);
  expect(made.exitCode).toBe(0);
  expect((await runParts(run)).map((part) => part.exitCode)).toEqual([0, 0]);
  const finalized = await finalize(run);
  expect(finalized.exitCode).toBe(0);
  const checked = await check(run);
  expect(checked.stderr).toMatch(/^foldercopy: check: complete: /);
  expect(checked.exitCode).toBe(0);
  return finalized.stderr;
}

describe('a planned --delete with --backup', () => {
  it('keeps each deleted and each replaced file beside it as name~, as an ordinary --delete --backup run does', async () => {
    const { root, source, ordinary, planned } = await twoDestinations();
    const one = await planCli(['--delete', '--max-delete', '10', '--backup', source, ordinary]);
    expect(one.stderr).toMatch(/, 3 deleted, 4 backed up, 0 failed\n$/);
    expect(one.exitCode).toBe(0);
    const finalized = await plannedCopy(root, source, planned, ['--backup']);
    expect(finalized).toMatch(/^foldercopy: finalized plan [0-9a-f]{32}: 2 directories, 3 deleted \(3 kept as backups\); its lock released\n$/);
    expect(fs.readFileSync(path.join(planned, 'old.txt~'), 'utf8')).toBe('old\n');
    expect(fs.readFileSync(path.join(planned, 'd/b.txt~'), 'utf8')).toBe('bravo v1\n');
    expect(fs.readFileSync(path.join(planned, 'gone/x.txt~'), 'utf8')).toBe('x\n');
    expect(fs.readlinkSync(path.join(planned, 'gone/y.lnk~'))).toBe('x.txt');
    expect(fs.existsSync(path.join(planned, 'old.txt'))).toBe(false);
    // The symlinks were made a moment apart in the two destinations, and `gone` (kept: it holds backups) was
    // written at another moment by each: their times differ. The planned directories' are the check's.
    expect(diffTrees(await snapshotTree(ordinary), await snapshotTree(planned), { mtimePrecision: 'ns', ignore: ['symlinkMtime', 'dirMtime'] })).toEqual([]);
  });

  it('--backup-dir inside the destination: the deleted and replaced files kept there at their paths, and the directory never deleted', async () => {
    const { root, source, ordinary, planned } = await twoDestinations();
    expect((await planCli(['--delete', '--max-delete', '10', '--backup-dir', '.kept', source, ordinary])).exitCode).toBe(0);
    await plannedCopy(root, source, planned, ['--backup-dir', '.kept']);
    expect(fs.readFileSync(path.join(planned, '.kept/old.txt'), 'utf8')).toBe('old\n');
    expect(fs.readFileSync(path.join(planned, '.kept/d/b.txt'), 'utf8')).toBe('bravo v1\n');
    expect(fs.readFileSync(path.join(planned, '.kept/gone/x.txt'), 'utf8')).toBe('x\n');
    expect(fs.existsSync(path.join(planned, 'gone'))).toBe(false);
    // The backup directory's own times are when each run made it; the symlinks were made a moment apart.
    expect(diffTrees(await snapshotTree(ordinary), await snapshotTree(planned), { ignore: ['dirMtime', 'symlinkMtime'] })).toEqual([]);
  });
});
