// A planned copy of what --files-from lists, end to end by the real CLI on real files: plan, parts,
// finalize, check. Only the listed names are planned (the source's others are no news to the check);
// a listed name the source lacks fails as in an ordinary --files-from run, and the check does not
// call that copy complete; nor one whose listed file failed in its part.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { check, finalize, makePlan, planCli, runParts, type PlannedRun } from './helpers/planned-run.js';
import { describeIfRoot } from './helpers/run-cli.js';
import { useTempDirs, writeTree } from './helpers/tree.js';

const tempDir = useTempDirs();
const NOBODY = { asUser: 'nobody' as const };

/** A source with listed and unlisted files, and a LIST naming some of them (and `missing` ones it lacks). */
async function listedSource(missing: readonly string[] = []): Promise<{ root: string; source: string; list: string }> {
  const root = await tempDir();
  const source = path.join(root, 'src');
  await writeTree(source, { 'a.txt': 'a\n', 'unlisted.txt': 'u\n', 'd/b.txt': 'b\n', 'd/other.txt': 'o\n', 'e/f/g.txt': 'g\n', 'h/i.txt': 'i\n' });
  const list = path.join(root, 'list');
  fs.writeFileSync(list, ['a.txt', 'd/b.txt', 'e/f/g.txt', ...missing].map((name) => `${name}\n`).join(''));
  return { root, source, list };
}

async function plannedFromList(missing: readonly string[] = []): Promise<{ run: PlannedRun; made: Awaited<ReturnType<typeof planCli>> }> {
  const { root, source, list } = await listedSource(missing);
  return makePlan(root, { source, destination: path.join(root, 'dst'), parts: 2, extra: ['--files-from', list] });
}

describe('a planned copy of --files-from', () => {
  it('copies only the listed files and the directories above them; --check says complete (exit 0)', async () => {
    const { run, made } = await plannedFromList();
    expect(made.exitCode).toBe(0);
    expect((await runParts(run)).map((part) => part.exitCode)).toEqual([0, 0]);
    expect((await finalize(run)).exitCode).toBe(0);
    const result = await check(run);
    expect(result.stderr).toBe('foldercopy: check: complete: 2 of 2 parts recorded; 3 entries planned: 3 copied, 0 kept, 0 failed, 0 missing, 0 extra, 0 mismatched\n');
    expect(result.exitCode).toBe(0);
    expect(fs.readdirSync(run.destination).sort()).toEqual(['a.txt', 'd', 'e']);
    expect(fs.readdirSync(path.join(run.destination, 'd'))).toEqual(['b.txt']);
    expect(fs.readFileSync(path.join(run.destination, 'e/f/g.txt'), 'utf8')).toBe('g\n');
    // A name the list does not name, added to the source since planning, is no news (the directory's mtime put back).
    const directory = path.join(run.source, 'd');
    const mtimeOfD = path.join(path.dirname(run.plan), 'mtime-of-d');
    fs.writeFileSync(mtimeOfD, '');
    execFileSync('touch', ['-m', '-r', directory, mtimeOfD]);
    fs.writeFileSync(path.join(directory, 'new-unlisted.txt'), 'n\n');
    execFileSync('touch', ['-m', '-r', mtimeOfD, directory]);
    expect((await check(run)).exitCode).toBe(0);
    // A listed one gone is.
    fs.rmSync(path.join(run.source, 'e/f/g.txt'));
    const removed = await check(run);
    expect(removed.stderr).toContain(`foldercopy: removed from the source since planning: ${run.source}/e/f/g.txt: planned, no longer in the source\n`);
    expect(removed.exitCode).toBe(5);
  });

  it('a listed name the source lacks fails planning as it fails an ordinary run (one line, exit 1); --check says incomplete (exit 3), naming it', async () => {
    const { root, source, list } = await listedSource(['missing.txt']);
    fs.appendFileSync(list, 'd/gone.txt\n');
    const ordinary = await planCli(['--files-from', list, source, path.join(root, 'ordinary')]);
    expect(ordinary.exitCode).toBe(1);
    const failureLines = (stderr: string): string[] => stderr.split('\n').filter((line) => line.startsWith('foldercopy: cannot'));
    const expected = [`foldercopy: cannot stat: ${source}/d/gone.txt: no such file or directory (ENOENT)`, `foldercopy: cannot stat: ${source}/missing.txt: no such file or directory (ENOENT)`];
    expect(failureLines(ordinary.stderr).sort()).toEqual(expected);

    const { run, made } = await makePlan(root, { source, destination: path.join(root, 'dst'), parts: 2, extra: ['--files-from', list] });
    expect(failureLines(made.stderr).sort()).toEqual(expected);
    expect(made.stderr).toMatch(/planned 3 files, .*; 2 failed\n/);
    expect(made.exitCode).toBe(1);
    expect((await runParts(run)).map((part) => part.exitCode)).toEqual([0, 0]);
    expect((await finalize(run)).exitCode).toBe(0);
    const result = await check(run, ['--json']);
    expect(result.stderr).toContain(`foldercopy: could not be planned: ${source}/missing.txt: it could not be listed when planned (ENOENT), so no part copied it\n`);
    expect(result.stderr).toMatch(/check: incomplete: 2 of 2 parts recorded; 3 entries planned: 3 copied, .*\n$/);
    expect(result.exitCode).toBe(3);
    const report = JSON.parse(result.stdout) as { status: string; problems: Array<{ code: string; path: string }> };
    expect(report.status).toBe('incomplete');
    expect(report.problems.map(({ code, path: at }) => `${code} ${at}`).sort()).toEqual([`planning-failed ${source}/d/gone.txt`, `planning-failed ${source}/missing.txt`]);
  });

  it('a listed file that fails in its part (removed since planning): the part exits 1, --check does not say complete', async () => {
    const { run } = await plannedFromList();
    fs.rmSync(path.join(run.source, 'd/b.txt'));
    const parts = await runParts(run);
    expect(parts.map((part) => part.exitCode).sort()).toEqual([0, 1]);
    expect(parts.map((part) => part.stderr).join('')).toContain(`cannot stat: ${run.source}/d/b.txt`);
    const result = await check(run);
    expect(result.stderr).toContain(`foldercopy: removed from the source since planning: ${run.source}/d/b.txt: planned, no longer in the source\n`);
    expect(result.stderr).toMatch(/foldercopy: failed to copy: .*\/dst\/d\/b\.txt: part \d recorded it failed \(ENOENT\)\n/);
    expect(result.exitCode).toBe(5);
  });
});

describeIfRoot('what planning could not list', () => {
  it("is not deleted by the plan's --delete, as an ordinary --delete deletes nothing after a failure (exit 1)", async () => {
    const root = await tempDir();
    const source = path.join(root, 'src');
    await writeTree(source, { 'a.txt': 'a\n', 'secret/s.txt': 's\n' });
    // Root's directory, which the copy, run as nobody, cannot list.
    fs.chmodSync(path.join(source, 'secret'), 0o700);
    const destination = path.join(root, 'dst');
    await writeTree(destination, { 'a.txt': 'a\n', 'secret/s.txt': 's\n', 'old.txt': 'o\n' });
    execFileSync('chown', ['-R', '65534:65534', root]);
    execFileSync('chown', ['-R', '0:0', source]);
    const ordinary = await planCli(['--delete', '--max-delete', '10', source, destination], NOBODY);
    expect(ordinary.stderr).toContain('deleted nothing');
    expect(ordinary.exitCode).toBe(1);

    const { run, made } = await makePlan(root, { source, destination, parts: 1, extra: ['--delete', '--max-delete', '10'], runAs: NOBODY });
    expect(made.stderr).toContain(`foldercopy: cannot list directory: ${source}/secret: permission denied (EACCES)\n`);
    expect(made.exitCode).toBe(1);
    expect((await runParts(run, NOBODY)).map((part) => part.exitCode)).toEqual([0]);
    const finalized = await finalize(run, [], NOBODY);
    expect(finalized.stderr).toContain('foldercopy: deleted nothing: some entries could not be listed when planned\n');
    expect(finalized.exitCode).toBe(1);
    expect(fs.readFileSync(path.join(destination, 'secret/s.txt'), 'utf8')).toBe('s\n');
    expect(fs.existsSync(path.join(destination, 'old.txt'))).toBe(true);
  });
});
