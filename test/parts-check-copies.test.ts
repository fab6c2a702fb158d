// What --check compares at the destination beyond type, size, mtime, mode and content: owners, where
// the copy kept them (parts and finalize that ran as root, as a copy keeps them only as root), and
// hard links (a file's planned names one inode). A planned copy run by the real CLI, step by step,
// on real files; then the destination is changed as a user could, and the check must say so.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { check, finalize, makePlan, runParts, type PlannedRun } from './helpers/planned-run.js';
import { describeIfRoot } from './helpers/run-cli.js';
import { useTempDirs, writeTree } from './helpers/tree.js';

const tempDir = useTempDirs();
const T0 = 1_600_000_000_123_456_789n;
const NOBODY = { asUser: 'nobody' as const };

/** A source with a file, a directory and two names of one file, copied by a plan of 2 parts, finalized and proven complete. */
async function copied(root: string, runAs = {}): Promise<PlannedRun> {
  const source = path.join(root, 'src');
  await writeTree(source, {
    'a.txt': { type: 'file', content: 'alpha\n', mtime: T0 },
    'docs/b.txt': { type: 'file', content: 'bravo\n', mtime: T0 },
    'docs/h1': { type: 'file', content: 'one inode\n', mtime: T0 },
    'docs/h2': { type: 'hardlink', target: 'docs/h1' },
    'docs': { type: 'dir', mtime: T0 },
  });
  const { run, made } = await makePlan(root, { source, destination: path.join(root, 'dst'), parts: 2, runAs });
  expect(made.exitCode).toBe(0);
  expect((await runParts(run, runAs)).map((part) => part.exitCode)).toEqual([0, 0]);
  expect((await finalize(run, [], runAs)).exitCode).toBe(0);
  const complete = await check(run);
  expect(complete.stderr).toMatch(/^foldercopy: check: complete: /);
  expect(complete.exitCode).toBe(0);
  return run;
}

describeIfRoot('--check, owners', () => {
  it('as root the copy kept owners: a file or directory given another owner or group since is mismatched (exit 4)', async () => {
    const run = await copied(await tempDir());
    const file = path.join(run.destination, 'a.txt');
    fs.chownSync(file, 12345, 0);
    const owner = await check(run);
    expect(owner.stderr).toContain(`foldercopy: differs at the destination: ${file}: owner 12345, the source's 0\n`);
    expect(owner.stderr).toMatch(/check: mismatched: .* 1 mismatched\n$/);
    expect(owner.exitCode).toBe(4);
    fs.chownSync(file, 0, 0);
    const directory = path.join(run.destination, 'docs');
    fs.chownSync(directory, 0, 12346);
    const group = await check(run, ['--json']);
    expect(group.stderr).toContain(`foldercopy: differs at the destination: ${directory}: group 12346, the source's 0\n`);
    expect(group.exitCode).toBe(4);
    expect(JSON.parse(group.stdout)).toMatchObject({ status: 'mismatched', problems: [{ code: 'destination-differs', path: directory, detail: "group 12346, the source's 0" }] });
  });

  it('run as another user, the copy could not keep owners: a changed owner is not reported', async () => {
    const root = await tempDir();
    fs.chownSync(root, 65534, 65534);
    const run = await copied(root, NOBODY);
    // The source is root's; the copy, made by nobody, is nobody's, as an ordinary copy by nobody would be.
    expect(fs.statSync(path.join(run.destination, 'a.txt')).uid).toBe(65534);
    fs.chownSync(path.join(run.destination, 'a.txt'), 12345, 12345);
    const result = await check(run);
    expect(result.stderr).toMatch(/^foldercopy: check: complete: /);
    expect(result.exitCode).toBe(0);
  });
});

describe('--check, hard links', () => {
  it('two names planned as one file that are separate files at the destination are mismatched (exit 4), naming the path', async () => {
    const run = await copied(await tempDir());
    const first = path.join(run.destination, 'docs/h1');
    const second = path.join(run.destination, 'docs/h2');
    expect(fs.statSync(second).ino).toBe(fs.statSync(first).ino);
    // The same bytes, mode, times and owner: only the inode tells.
    execFileSync('cp', ['-p', first, `${second}.new`]);
    fs.renameSync(`${second}.new`, second);
    // The rename moved the directory's mtime: back to the source's, to the nanosecond.
    execFileSync('touch', ['-m', '-r', path.join(run.source, 'docs'), path.dirname(second)]);
    const result = await check(run, ['--checksum']);
    expect(result.stderr).toBe(
      `foldercopy: differs at the destination: ${second}: a separate file, not a hard link of "docs/h1" as in the source (one inode there)\n` +
        'foldercopy: check: mismatched: 2 of 2 parts recorded; 4 entries planned: 4 copied, 0 kept, 0 failed, 0 missing, 0 extra, 1 mismatched\n',
    );
    expect(result.exitCode).toBe(4);
  });
});
