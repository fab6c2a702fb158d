import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeletePass, type DeletePassOptions } from '../../src/delete/pass.js';
import type { DestinationDirectories } from '../../src/destination/directories.js';
import type { Staging } from '../../src/destination/staging.js';
import type { ResolvedOptions } from '../../src/run/options.js';
import { DirectoryHandles } from '../../src/shared/directory-handles.js';
import type { ErrorRecord } from '../../src/shared/errors.js';
import type { Job } from '../../src/shared/jobs.js';
import { rawFromString, type RawPath } from '../../src/shared/raw-path.js';
import { useTempDirs } from '../helpers/tree.js';

const tempDir = useTempDirs();
const handles: DirectoryHandles[] = [];
afterEach(() => {
  for (const opened of handles.splice(0)) opened.closeAll();
});

const blockedBy: ErrorRecord = { code: 'EISDIR', message: 'is a directory', operation: 'rename', path: 'x' };

/** A source with a.txt, a destination with a.txt and old.txt; the pass as the run would make it. */
async function setUp(run: { delete: boolean; maxDelete?: number; staging?: Staging | null }) {
  const source = await tempDir();
  const destination = await tempDir();
  fs.writeFileSync(path.join(source, 'a.txt'), 'a');
  fs.writeFileSync(path.join(destination, 'a.txt'), 'a');
  fs.writeFileSync(path.join(destination, 'old.txt'), 'old');
  const opened = new DirectoryHandles(rawFromString(destination));
  handles.push(opened);
  let listedAgain = 0;
  const options: DeletePassOptions = {
    source: rawFromString(source),
    destination: rawFromString(destination),
    handles: opened,
    filter: null,
    resolved: { delete: run.delete, maxDelete: run.maxDelete, worker: { dryRun: false, backup: null }, keptFromDelete: null } as ResolvedOptions,
    staging: run.staging ?? null,
    directories: { listedAgain: () => listedAgain++ } as unknown as DestinationDirectories,
  };
  const deleted: RawPath[] = [];
  const report = { fail: (error: ErrorRecord) => expect.unreachable(error.message), deleted: (relative: RawPath) => deleted.push(relative) };
  return { pass: DeletePass.forRun(options), source, destination, report, deleted, listedAgain: () => listedAgain };
}

describe('DeletePass', () => {
  it('is not made in a run that deletes nothing, so no listing state is kept', async () => {
    expect((await setUp({ delete: false })).pass).toBeNull();
    expect((await setUp({ delete: false, staging: { path: 'x', adopted: true } })).pass).not.toBeNull();
  });

  it('deletes what the source lacks in the listed directories, after telling the directories they were listed again', async () => {
    const { pass, destination, report, deleted, listedAgain } = await setUp({ delete: true, maxDelete: 5 });
    pass!.listed('', 1, true);
    expect(pass!.run({ failed: false, created: 0, report })).toEqual({ skipped: undefined, retry: [] });
    expect(deleted).toEqual(['old.txt']);
    expect(fs.readdirSync(destination)).toEqual(['a.txt']);
    expect(listedAgain()).toBe(1);
  });

  it('returns why it deleted nothing after a failure or an empty listing, and keeps the jobs it held for takeBlocked()', async () => {
    const failed = await setUp({ delete: true, maxDelete: 5 });
    const job: Job = { kind: 'file', path: 'dir' };
    expect(failed.pass!.holds(job, blockedBy)).toBe(true);
    failed.pass!.listed('', 1, true);
    expect(failed.pass!.run({ failed: true, created: 0, report: failed.report })).toEqual({ skipped: 'some entries failed to copy', retry: [] });
    expect(failed.pass!.takeBlocked().map((blocked) => blocked.job)).toEqual([job]);
    const empty = await setUp({ delete: true, maxDelete: 5 });
    empty.pass!.listed('', 0, true);
    expect(empty.pass!.run({ failed: false, created: 0, report: empty.report }).skipped).toBe('the source has nothing to copy');
    for (const { deleted, listedAgain, destination } of [failed, empty]) {
      expect(deleted).toEqual([]);
      expect(listedAgain()).toBe(0);
      expect(fs.readdirSync(destination).sort()).toEqual(['a.txt', 'old.txt']);
    }
  });

  it('weighs deletions against what the destination held before the copy: more than half, and nothing goes', async () => {
    const { pass, report, deleted } = await setUp({ delete: true });
    pass!.listed('', 1, true);
    // a.txt was created by this run: of what was there, old.txt alone would go.
    expect(pass!.run({ failed: false, created: 1, report }).skipped).toMatch(/^1 of the 1 entries at the destination would be deleted, more than half/);
    expect(deleted).toEqual([]);
  });

  it('never runs in a fresh copy, and lists nothing for it', async () => {
    const { pass, report, deleted, listedAgain } = await setUp({ delete: true, staging: { path: 'x', adopted: false } });
    pass!.listed('', 1, true);
    expect(pass!.run({ failed: false, created: 0, report })).toEqual({ skipped: undefined, retry: [] });
    expect(deleted).toEqual([]);
    expect(listedAgain()).toBe(0);
  });

  it('prunes an adopted staging directory whatever failed, and hands back the jobs a directory held', async () => {
    const { pass, source, destination, report, deleted } = await setUp({ delete: false, staging: { path: 'x', adopted: true } });
    // Where the source has a file now, the killed run left a directory.
    fs.writeFileSync(path.join(source, 'dir'), 'now a file');
    fs.mkdirSync(path.join(destination, 'dir'));
    const job: Job = { kind: 'file', path: 'dir' };
    expect(pass!.holds(job, { ...blockedBy, operation: 'open' })).toBe(false);
    expect(pass!.holds(job, blockedBy)).toBe(true);
    pass!.listed('', 1, true);
    expect(pass!.run({ failed: true, created: 0, report })).toEqual({ skipped: undefined, retry: [job] });
    expect(deleted).toEqual(['dir', 'old.txt']);
    expect(pass!.holds(job, blockedBy)).toBe(false);
  });
});
