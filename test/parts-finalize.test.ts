// `foldercopy --plan PLAN --finalize` after the parts of a planned copy ran: the real CLI on a real source, its
// copy and a plan directory (test/helpers/plan-fixture.ts). Directories end with the source's modes and times
// to the nanosecond, a planned --delete removes what the plan does not list behind the copy's guard, and the
// plan's lock goes only when it names this plan.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyWithCp, recordFile, writeAllRecords, writePlan, writePlanLock, type FixtureOptions, type PlanFixture } from './helpers/plan-fixture.js';
import { describeIfRoot, runCli, type RunResult } from './helpers/run-cli.js';
import { snapshotTree, sourceAndCopy, useTempDirs, writeTree } from './helpers/tree.js';

const tempDir = useTempDirs();
const T0 = 1_600_000_000_123_456_789n;
const T1 = 1_650_000_000_987_654_321n;

/** A source with directories of several modes and nanosecond times, planned, copied by `cp -a` and recorded. */
async function copiedPlan(options: FixtureOptions = {}): Promise<PlanFixture> {
  const { root, source, copy } = await sourceAndCopy(tempDir);
  await writeTree(source, {
    'a.txt': { type: 'file', content: 'alpha\n', mtime: T0 },
    'docs/b.txt': { type: 'file', content: 'bravo\n', mtime: T0 },
    'docs/private/c.txt': { type: 'file', content: 'charlie\n', mtime: T0 },
    'docs/private': { type: 'dir', mtime: T1, mode: 0o700 },
    'docs': { type: 'dir', mtime: T0, mode: 0o750 },
    'empty': { type: 'dir', mtime: T1, mode: 0o755 },
  });
  fs.utimesSync(source, 1_600_000_000, 1_600_000_000);
  const fixture = writePlan(source, copy, path.join(root, 'plan'), { parts: 2, ...options });
  copyWithCp(fixture);
  writeAllRecords(fixture);
  return fixture;
}

function finalize(fixture: PlanFixture, ...args: string[]): Promise<RunResult> {
  return runCli(['--plan', fixture.plan, '--finalize', ...args]);
}

/** Each directory's mode and mtime (ns), by path. */
async function directoryAttributes(root: string): Promise<Record<string, { mode: number; mtimeNs: bigint }>> {
  const attributes: Record<string, { mode: number; mtimeNs: bigint }> = {};
  for (const entry of (await snapshotTree(root)).entries.values()) {
    if (entry.type === 'dir') attributes[entry.path] = { mode: entry.mode, mtimeNs: entry.mtimeNs };
  }
  return attributes;
}

describe('--plan --finalize', () => {
  it("gives every directory its source's mode and times to the nanosecond, and makes an empty planned one", async () => {
    const fixture = await copiedPlan();
    // What parts leave: directories made with default modes, their times moved by the files written in them.
    fs.rmSync(path.join(fixture.destination, 'empty'), { recursive: true });
    for (const directory of ['docs/private', 'docs', '.']) {
      fs.chmodSync(path.join(fixture.destination, directory), 0o700);
      fs.utimesSync(path.join(fixture.destination, directory), new Date(), new Date());
    }
    const lock = writePlanLock(fixture.destination, fixture.id, fixture.plan);
    const result = await finalize(fixture);
    expect(result.stderr).toBe(`foldercopy: finalized plan ${fixture.id}: 4 directories (1 made), 0 deleted; its lock released\n`);
    expect(result.exitCode).toBe(0);
    expect(await directoryAttributes(fixture.destination)).toEqual(await directoryAttributes(fixture.source));
    expect(fs.existsSync(lock)).toBe(false);
    const finalized = JSON.parse(fs.readFileSync(path.join(fixture.plan, 'finalized.json'), 'utf8')) as Record<string, unknown>;
    expect(finalized).toMatchObject({ plan: fixture.id, deleted: 0 });
  });

  it('is harmless run twice: the same attributes, nothing more deleted', async () => {
    const fixture = await copiedPlan({ options: { delete: true } });
    fs.writeFileSync(path.join(fixture.destination, 'stray.txt'), 'stray');
    const first = await finalize(fixture);
    expect(first.exitCode).toBe(0);
    expect(first.stderr).toMatch(/, 1 deleted; no lock of its own was held\n$/);
    const after = await snapshotTree(fixture.destination);
    const second = await finalize(fixture);
    expect(second.stderr).toBe(`foldercopy: finalized plan ${fixture.id}: 4 directories, 0 deleted; no lock of its own was held\n`);
    expect(second.exitCode).toBe(0);
    expect(await snapshotTree(fixture.destination)).toEqual(after);
  });

  it("with the plan's --delete, removes what the plan does not list, keeping excluded names; a killed part's temporary file goes too", async () => {
    const fixture = await copiedPlan({ options: { delete: true, exclude: ['*.keep'] }, leaveOut: (relative) => relative.endsWith('.keep') });
    const destination = fixture.destination;
    fs.writeFileSync(path.join(destination, 'old.txt'), 'old');
    fs.mkdirSync(path.join(destination, 'docs/gone/deeper'), { recursive: true });
    fs.writeFileSync(path.join(destination, 'docs/gone/deeper/x.txt'), 'x');
    fs.writeFileSync(path.join(destination, 'docs/local.keep'), 'mine');
    // Every part has its record, so no part writes this any more: a killed run's leftover.
    fs.writeFileSync(path.join(destination, 'docs/.b.txt.4242.foldercopy-part'), 'a killed part was writing');
    fs.mkdirSync(path.join(destination, 'docs/.x.4242.foldercopy-part'));
    // Planned names stay, even where the plan's filters would not have copied them now.
    fs.writeFileSync(path.join(fixture.source, 'new-since.txt'), 'the plan never listed it');
    const result = await finalize(fixture);
    expect(result.stderr).toMatch(/: 4 directories, 4 deleted, 1 temporary file of killed parts removed; /);
    expect(result.exitCode).toBe(0);
    expect(fs.readdirSync(destination).sort()).toEqual(['a.txt', 'docs', 'empty']);
    // A directory with our suffix is no file of a part's: not swept, and not the plan's --delete's either.
    expect(fs.readdirSync(path.join(destination, 'docs')).sort()).toEqual(['.x.4242.foldercopy-part', 'b.txt', 'local.keep', 'private']);
  });

  it('deletes nothing past --max-delete (exit 1, the lock kept), and does once --max-delete allows it', async () => {
    const fixture = await copiedPlan({ options: { delete: true, maxDelete: 1 } });
    fs.writeFileSync(path.join(fixture.destination, 'old1.txt'), '1');
    fs.writeFileSync(path.join(fixture.destination, 'old2.txt'), '2');
    const lock = writePlanLock(fixture.destination, fixture.id, fixture.plan);
    const refused = await finalize(fixture);
    expect(refused.stderr).toBe(
      'foldercopy: deleted nothing: 2 entries would be deleted, more than --max-delete allows (1)\n' +
        `foldercopy: plan ${fixture.id} not finalized (4 directories, 0 deleted); fix what is said above and run --finalize again\n`,
    );
    expect(refused.exitCode).toBe(1);
    expect(fs.existsSync(path.join(fixture.destination, 'old1.txt'))).toBe(true);
    expect(fs.existsSync(lock)).toBe(true);
    expect(fs.existsSync(path.join(fixture.plan, 'finalized.json'))).toBe(false);
    const allowed = await finalize(fixture, '--max-delete', '2');
    expect(allowed.stderr).toMatch(/, 2 deleted; its lock released\n$/);
    expect(allowed.exitCode).toBe(0);
    expect(fs.existsSync(path.join(fixture.destination, 'old1.txt'))).toBe(false);
  });

  it("keeps the copy's guard without --max-delete: more than half of the destination is not deleted", async () => {
    const fixture = await copiedPlan({ options: { delete: true } });
    for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(fixture.destination, `other-${i}.txt`), 'x');
    const result = await finalize(fixture);
    expect(result.stderr).toMatch(/^foldercopy: deleted nothing: 10 of the 1[0-9] entries at the destination would be deleted, more than half; give --max-delete to allow it\n/);
    expect(result.exitCode).toBe(1);
    expect(fs.readdirSync(fixture.destination)).toHaveLength(13);
  });

  it("removes the lock only when it names this plan: another plan's, or an ordinary run's, stays", async () => {
    const fixture = await copiedPlan();
    const lock = writePlanLock(fixture.destination, 'f'.repeat(32), '/elsewhere/plan');
    const other = await finalize(fixture);
    expect(other.stderr).toMatch(/; no lock of its own was held\n$/);
    expect(other.exitCode).toBe(0);
    expect(fs.readFileSync(lock, 'utf8')).toBe(`plan ${'f'.repeat(32)} ${process.getuid?.() ?? 0} "/elsewhere/plan"\n`);
    fs.writeFileSync(lock, `${process.pid} 12345 0\n`);
    expect((await finalize(fixture)).exitCode).toBe(0);
    expect(fs.existsSync(lock)).toBe(true);
    writePlanLock(fixture.destination, fixture.id, fixture.plan);
    expect((await finalize(fixture)).stderr).toMatch(/; its lock released\n$/);
    expect(fs.existsSync(lock)).toBe(false);
  });

  it('is refused while a part has not finished, naming it, and changes nothing', async () => {
    const fixture = await copiedPlan();
    fs.rmSync(recordFile(fixture, 1));
    fs.chmodSync(path.join(fixture.destination, 'docs'), 0o700);
    const result = await finalize(fixture);
    expect(result.stderr).toBe(`foldercopy: part 1 of ${fixture.plan} has not finished (no record): run it before finalizing\n`);
    expect(result.exitCode).toBe(2);
    expect(fs.statSync(path.join(fixture.destination, 'docs')).mode & 0o777).toBe(0o700);
  });

  it('takes --max-delete only for a plan made with --delete', async () => {
    const fixture = await copiedPlan();
    const result = await finalize(fixture, '--max-delete', '3');
    expect(result.stderr).toBe('foldercopy: --max-delete needs --delete\n');
    expect(result.exitCode).toBe(2);
  });
});

describeIfRoot('--plan --finalize as root', () => {
  it("gives each directory its source's owner", async () => {
    const fixture = await copiedPlan();
    fs.chownSync(path.join(fixture.source, 'docs/private'), 65534, 65534);
    // Planned with that owner: the plan is what finalize reads.
    const planned = writePlan(fixture.source, fixture.destination, `${fixture.plan}-2`, { parts: 2 });
    writeAllRecords(planned);
    fs.chownSync(path.join(fixture.destination, 'docs/private'), 0, 0);
    const result = await finalize(planned);
    expect(result.exitCode).toBe(0);
    const stats = fs.statSync(path.join(fixture.destination, 'docs/private'));
    expect([stats.uid, stats.gid]).toEqual([65534, 65534]);
  });
});
