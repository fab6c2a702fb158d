// `foldercopy --plan PLAN --check` as a scheduler's last task runs it: the real CLI on a real source, its copy
// and a plan directory (made by test/helpers/plan-fixture.ts), each way a planned copy can go wrong told by
// its exit code (5 source changed, 4 mismatched, 3 incomplete, 0 complete) and one line naming the path.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPlan, EXIT_CODES, finalizePlan } from '../dist/index.js';
import { copyWithCp, recordFile, writeAllRecords, writePlan, writeRecord, type PlanFixture } from './helpers/plan-fixture.js';
import { runCli, type RunResult } from './helpers/run-cli.js';
import { flipByteKeepingTimes, sourceAndCopy, useTempDirs, writeTree } from './helpers/tree.js';

const tempDir = useTempDirs();
const T0 = 1_600_000_000_123_456_789n;

/** A source of a few files, a symlink and an empty directory; planned in 3 parts, copied, recorded and finalized. */
async function finishedCopy(): Promise<PlanFixture> {
  const { root, source, copy } = await sourceAndCopy(tempDir);
  await writeTree(source, {
    'a.txt': { type: 'file', content: 'alpha\n', mtime: T0 },
    'docs/b.txt': { type: 'file', content: 'bravo\n'.repeat(50), mtime: T0, mode: 0o640 },
    'docs/deep/c.txt': { type: 'file', content: 'charlie\n', mtime: T0 },
    'docs/link': { type: 'symlink', target: '../a.txt' },
    'empty': { type: 'dir', mtime: T0 },
    'docs/deep': { type: 'dir', mtime: T0 },
    'docs': { type: 'dir', mtime: T0, mode: 0o750 },
  });
  const fixture = writePlan(source, copy, path.join(root, 'plan'), { parts: 3 });
  copyWithCp(fixture);
  writeAllRecords(fixture);
  const finalized = await runCli(['--plan', fixture.plan, '--finalize']);
  expect(finalized.stderr).toMatch(/finalized plan/);
  expect(finalized.exitCode).toBe(0);
  return fixture;
}

function check(fixture: PlanFixture, ...args: string[]): Promise<RunResult> {
  return runCli(['--plan', fixture.plan, '--check', ...args]);
}

function partOf(fixture: PlanFixture, relative: string): number {
  for (let k = 0; k < fixture.parts; k++) {
    if (fs.readFileSync(path.join(fixture.plan, 'parts', `${String(k).padStart(6, '0')}.ndjson`), 'utf8').includes(`"path":${JSON.stringify(relative)}`)) return k;
  }
  throw new Error(`${relative} is in no part`);
}

describe('--plan --check', () => {
  it('exits 0 for a complete copy, with one summary line', async () => {
    const fixture = await finishedCopy();
    const result = await check(fixture);
    expect(result.stderr).toBe('foldercopy: check: complete: 3 of 3 parts recorded; 4 entries planned: 4 copied, 0 kept, 0 failed, 0 missing, 0 extra, 0 mismatched\n');
    expect(result.exitCode).toBe(0);
    const checksummed = await check(fixture, '--checksum');
    expect(checksummed.exitCode).toBe(0);
  });

  it('--json prints the report: status, parts, entries and problems', async () => {
    const fixture = await finishedCopy();
    fs.rmSync(recordFile(fixture, 2));
    const result = await check(fixture, '--json');
    expect(result.exitCode).toBe(3);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(report)).toEqual(['schemaVersion', 'status', 'parts', 'entries', 'problems']);
    expect(report).toMatchObject({
      schemaVersion: 1,
      status: 'incomplete',
      parts: { planned: 3, recorded: 2, missing: [2] },
      entries: { planned: 4, failed: 0, extra: 0, mismatched: 0 },
      problems: [{ code: 'part-missing', path: recordFile(fixture, 2), detail: 'part 2: no record: the part has not finished' }],
    });
    const entries = report.entries as Record<string, number>;
    expect(entries.copied + entries.missing).toBe(4);
    expect(entries.missing).toBeGreaterThan(0);
  });

  it('exits 3 naming the part whose record is missing', async () => {
    const fixture = await finishedCopy();
    fs.rmSync(recordFile(fixture, 1));
    const result = await check(fixture);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain(`foldercopy: part not finished: ${recordFile(fixture, 1)}: part 1: no record: the part has not finished\n`);
    expect(result.stderr).toMatch(/check: incomplete: 2 of 3 parts recorded \(missing: 1\)/);
  });

  it('exits 3 naming an entry its part did not record, and one recorded failed', async () => {
    const fixture = await finishedCopy();
    const k = partOf(fixture, 'docs/b.txt');
    writeRecord(fixture, k, { omit: ['docs/b.txt'] });
    const missing = await check(fixture);
    expect(missing.exitCode).toBe(3);
    expect(missing.stderr).toContain(`foldercopy: not copied: ${fixture.destination}/docs/b.txt: planned in part ${k}, in no record of it\n`);
    writeRecord(fixture, k, { failed: { 'docs/b.txt': 'EACCES' } });
    const failed = await check(fixture);
    expect(failed.exitCode).toBe(3);
    expect(failed.stderr).toContain(`foldercopy: failed to copy: ${fixture.destination}/docs/b.txt: part ${k} recorded it failed (EACCES)\n`);
  });

  it('exits 3 before the plan is finalized, without calling its directories mismatched', async () => {
    const fixture = await finishedCopy();
    fs.rmSync(path.join(fixture.plan, 'finalized.json'));
    fs.utimesSync(path.join(fixture.destination, 'docs'), new Date(), new Date());
    const result = await check(fixture);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toMatch(/^foldercopy: not finalized: .*finalized\.json: /m);
    expect(result.stderr).not.toMatch(/differs/);
  });

  it('exits 4 for a record line outside the plan, and for a path recorded by two parts', async () => {
    const fixture = await finishedCopy();
    writeRecord(fixture, 0, { extra: [{ path: 'nowhere.txt', outcome: 'copied', size: 1 }] });
    const outside = await check(fixture);
    expect(outside.exitCode).toBe(4);
    expect(outside.stderr).toContain(`foldercopy: recorded outside the plan: ${fixture.destination}/nowhere.txt: part 0 recorded it, the plan has no such entry\n`);
    writeRecord(fixture, 0);
    const k = partOf(fixture, 'a.txt');
    const other = (k + 1) % 3;
    writeRecord(fixture, other, { extra: [{ path: 'a.txt', outcome: 'copied', size: 6 }] });
    const twice = await check(fixture);
    expect(twice.exitCode).toBe(4);
    expect(twice.stderr).toContain(`foldercopy: recorded twice: ${fixture.destination}/a.txt: by part ${Math.min(k, other)} and by part ${Math.max(k, other)}\n`);
  });

  it('exits 4 naming a destination file whose size, mode or (with --checksum) content differs', async () => {
    const fixture = await finishedCopy();
    const file = path.join(fixture.destination, 'docs/b.txt');
    const sourceFile = path.join(fixture.source, 'docs/b.txt');
    flipByteKeepingTimes(file);
    // Its mtime back to the nanosecond: only its content tells.
    execFileSync('touch', ['-m', '-r', sourceFile, file]);
    expect((await check(fixture)).exitCode).toBe(0);
    const content = await check(fixture, '--checksum');
    expect(content.exitCode).toBe(4);
    expect(content.stderr).toContain(`foldercopy: differs at the destination: ${file}: its content differs from the source's (SHA-256)\n`);

    fs.appendFileSync(file, 'more');
    execFileSync('touch', ['-m', '-r', sourceFile, file]);
    const size = await check(fixture);
    expect(size.exitCode).toBe(4);
    expect(size.stderr).toContain(`foldercopy: differs at the destination: ${file}: size 304, the source's 300\n`);

    const other = path.join(fixture.destination, 'a.txt');
    fs.chmodSync(other, 0o600);
    const mode = await check(fixture);
    expect(mode.stderr).toContain(`foldercopy: differs at the destination: ${other}: mode 0600, the source's 0644\n`);
    expect(mode.stderr).toMatch(/check: mismatched: .* 2 mismatched\n$/);
    expect(mode.exitCode).toBe(4);
  });

  it('exits 4 naming a destination entry that is gone', async () => {
    const fixture = await finishedCopy();
    fs.rmSync(path.join(fixture.destination, 'docs/deep'), { recursive: true });
    const result = await check(fixture);
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain(`foldercopy: missing at the destination: ${fixture.destination}/docs/deep: the source's directory is not at the destination\n`);
    expect(result.stderr).toContain(`foldercopy: missing at the destination: ${fixture.destination}/docs/deep/c.txt: the source's file is not at the destination\n`);
  });

  it('exits 5 naming a source file changed, added or removed since planning', async () => {
    const fixture = await finishedCopy();
    fs.appendFileSync(path.join(fixture.source, 'a.txt'), 'changed');
    fs.writeFileSync(path.join(fixture.source, 'docs/deep/new.txt'), 'new');
    fs.rmSync(path.join(fixture.source, 'docs/b.txt'));
    const result = await check(fixture);
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toContain(`foldercopy: changed in the source since planning: ${fixture.source}/a.txt: size 6 when planned, 13 now; its mtime moved since planning\n`);
    expect(result.stderr).toContain(`foldercopy: added to the source since planning: ${fixture.source}/docs/deep/new.txt: file not in the plan\n`);
    expect(result.stderr).toContain(`foldercopy: removed from the source since planning: ${fixture.source}/docs/b.txt: planned, no longer in the source\n`);
    expect(result.stderr).toMatch(/check: source-changed: /);
  });

  it('puts the source first: 5 over 4 over 3, the gravest problems listed first', async () => {
    const fixture = await finishedCopy();
    fs.rmSync(recordFile(fixture, (partOf(fixture, 'a.txt') + 1) % 3));
    fs.chmodSync(path.join(fixture.destination, 'a.txt'), 0o600);
    const mismatched = await check(fixture);
    expect(mismatched.exitCode).toBe(4);
    fs.writeFileSync(path.join(fixture.source, 'added.txt'), 'x');
    const result = await check(fixture);
    expect(result.exitCode).toBe(5);
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^foldercopy: added to the source since planning: /);
    expect(lines.findIndex((line) => line.includes('part not finished'))).toBeGreaterThan(lines.findIndex((line) => line.includes('differs at the destination')));
  });

  it('caps the problem lines at 20, then says how many more', async () => {
    const fixture = await finishedCopy();
    for (let i = 0; i < 25; i++) fs.writeFileSync(path.join(fixture.source, `new-${String(i).padStart(2, '0')}.txt`), 'x');
    const result = await check(fixture);
    expect(result.exitCode).toBe(5);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(22);
    expect(lines[20]).toBe('foldercopy: and 5 more');
  });

  it('is refused in one line for a directory that is no plan, or with a copy option', async () => {
    const dir = await tempDir();
    const result = await runCli(['--plan', dir, '--check']);
    expect(result.stderr).toBe(`foldercopy: cannot read the plan: ${dir}/plan.json: missing\n`);
    expect(result.exitCode).toBe(2);
    const option = await runCli(['--plan', dir, '--check', '--exclude', '*.log']);
    expect(option.stderr).toBe('foldercopy: --exclude is fixed when the plan is made, not given to --check (see foldercopy --help)\n');
    expect(option.exitCode).toBe(2);
    const paths = await runCli(['--plan', dir, '--check', 'src', 'dest']);
    expect(paths.stderr).toMatch(/^foldercopy: --plan takes no source or destination/);
    expect(paths.exitCode).toBe(2);
  });

  it("the library's finalizePlan and checkPlan return the summary and the report", async () => {
    const fixture = await finishedCopy();
    fs.rmSync(path.join(fixture.plan, 'finalized.json'));
    fs.chmodSync(path.join(fixture.destination, 'docs'), 0o700);
    const before = await checkPlan(fixture.plan);
    expect(before.status).toBe('incomplete');
    expect(before.problems.map((problem) => problem.code)).toEqual(['not-finalized']);
    const summary = await finalizePlan(fixture.plan);
    expect(summary).toMatchObject({ plan: fixture.id, destination: fixture.destination, directories: 4, made: 0, deleted: 0, failures: [], finalized: true });
    const report = await checkPlan(fixture.plan, { checksum: true });
    expect(report).toMatchObject({ status: 'complete', parts: { planned: 3, recorded: 3, missing: [] }, problems: [] });
    expect([EXIT_CODES.incomplete, EXIT_CODES.mismatched, EXIT_CODES.sourceChanged]).toEqual([3, 4, 5]);
  });
});
