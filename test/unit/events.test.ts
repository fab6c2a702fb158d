import { describe, expect, it } from 'vitest';
import type { ErrorRecord } from '../../src/shared/errors.js';
import type { Job, OverwritePolicy } from '../../src/shared/jobs.js';
import { EntryEvents, type EntryEventsOptions } from '../../src/run/entry-events.js';
import { RunEvents } from '../../src/run/events.js';
import { Progress } from '../../src/run/progress.js';
import { Tally, type TallyOptions } from '../../src/run/tally.js';
import { LOST_ACLS, LOST_UNAVAILABLE, LOST_XATTRS } from '../../src/shared/xattrs.js';
import type { CopyFailure, CopySkip, EntryEvent } from '../../src/run/types.js';

/** The tally as the run feeds it: through its events, with the entry events listening beside it. */
function makeTally({ overwrite = 'changed', ...options }: Partial<TallyOptions & EntryEventsOptions> = {}) {
  const events: EntryEvent[] = [];
  const failures: CopyFailure[] = [];
  const skips: CopySkip[] = [];
  let stops = 0;
  const tally = new Tally({
    source: '/src',
    writtenTo: '/dst',
    destination: '/dst',
    onFailure: (failure) => failures.push(failure),
    onSkip: (skip) => skips.push(skip),
    onStop: () => stops++,
    ...options,
  });
  const entries = EntryEvents.forRun({ overwrite, log: null, onEntry: (event) => events.push(event), stop: (error) => tally.stop(error) });
  const run = new RunEvents({ tally, progress: new Progress(undefined), entries, manifest: null, singleFileName: 'dst' });
  return { tally, run, events, failures, skips, stops: () => stops };
}

const fileJob: Job = { kind: 'file', path: 'dir/a.txt' };
const symlinkJob: Job = { kind: 'symlink', path: 'dir/link' };
const hardlinkJob: Job = { kind: 'hardlink', path: 'dir/second', target: 'dir/a.txt' };

const record = (code: string, operation: ErrorRecord['operation'], path = '/dst/dir/a.txt'): ErrorRecord => ({
  code,
  message: 'something went wrong',
  operation,
  path,
});

const NONE_LOST = { xattrsNotSupported: 0, aclsNotSupported: 0, xattrsRefused: 0, unavailable: 0 };

describe('Tally counts', () => {
  it('counts files, symlinks and hard links by kind, and bytes for files only', () => {
    const { tally, run } = makeTally();
    run.jobDone(fileJob, { outcome: 'created', size: 100 });
    run.jobDone({ kind: 'file', path: 'b' }, { outcome: 'overwritten', size: 50 });
    run.jobDone(symlinkJob, { outcome: 'created', size: 7 });
    run.jobDone(hardlinkJob, { outcome: 'created', size: 100 });
    expect(tally.counts).toEqual({
      files: 2,
      directories: 0,
      symlinks: 1,
      hardLinks: 1,
      bytes: 150,
      created: 3,
      linked: 0,
      overwritten: 1,
      skipped: 0,
      deleted: 0,
      backedUp: 0,
      metadataNotKept: NONE_LOST,
    });
  });

  it('counts a file linked from a link-dest tree as created and linked, not as a file written nor its bytes', () => {
    const { tally, run } = makeTally();
    run.jobDone(fileJob, { outcome: 'linked', size: 100 });
    expect(tally.counts).toMatchObject({ files: 0, bytes: 0, created: 1, linked: 1, overwritten: 0, skipped: 0 });
  });

  it('counts a skipped entry as skipped only, not by kind nor bytes', () => {
    const { tally, run } = makeTally();
    run.jobDone(fileJob, { outcome: 'skipped', size: 100 });
    run.jobDone(symlinkJob, { outcome: 'skipped', size: 0 });
    expect(tally.counts).toEqual({
      files: 0,
      directories: 0,
      symlinks: 0,
      hardLinks: 0,
      bytes: 0,
      created: 0,
      linked: 0,
      overwritten: 0,
      skipped: 2,
      deleted: 0,
      backedUp: 0,
      metadataNotKept: NONE_LOST,
    });
  });

  it('counts entries copied without some metadata by what they lost, as neither failures nor events', () => {
    const { tally, run } = makeTally();
    run.jobDone(fileJob, { outcome: 'created', size: 100, lost: LOST_XATTRS });
    run.jobDone({ kind: 'file', path: 'b' }, { outcome: 'skipped', size: 5, lost: LOST_XATTRS | LOST_ACLS });
    // A directory's losses, as finalize() returns them.
    run.metadataLost(LOST_UNAVAILABLE);
    expect(tally.counts.metadataNotKept).toEqual({ ...NONE_LOST, xattrsNotSupported: 2, aclsNotSupported: 1, unavailable: 1 });
    expect(tally.failures).toEqual([]);
    expect(tally.hasFailures).toBe(false);
    expect(tally.counts.files).toBe(1);
  });

  it('counts a directory made as created, with a create event where the root is "."', () => {
    const { tally, run, events } = makeTally();
    const meta = { mode: 0o755, uid: 0, gid: 0, atime: 0, mtime: 0, atimeNs: 0n, mtimeNs: 0n };
    run.directory({ path: '', ...meta }, 'created');
    run.directory({ path: 'sub', ...meta }, 'created');
    expect(tally.counts.directories).toBe(2);
    expect(tally.counts.created).toBe(2);
    expect(events).toEqual([
      { path: '.', action: 'create', type: 'directory' },
      { path: 'sub', action: 'create', type: 'directory' },
    ]);
  });

  it('counts deletions only when asked to, with an event either way', () => {
    const { tally, run, events } = makeTally();
    run.deleted('old', true, true, false);
    run.deleted('old/inner', false, false, false);
    expect(tally.counts.deleted).toBe(1);
    expect(events).toEqual([
      { path: 'old', action: 'delete', type: 'directory' },
      { path: 'old/inner', action: 'delete', type: 'file' },
    ]);
  });
});

describe('Entry events', () => {
  it('delivers create and overwrite events, with a size for files only', () => {
    const { run, events } = makeTally();
    run.jobDone(fileJob, { outcome: 'created', size: 12 });
    run.jobDone(symlinkJob, { outcome: 'overwritten', size: 0 });
    run.jobDone(hardlinkJob, { outcome: 'created', size: 12 });
    run.jobDone({ kind: 'file', path: '' }, { outcome: 'overwritten', size: 3 });
    expect(events).toEqual([
      { path: 'dir/a.txt', action: 'create', type: 'file', size: 12 },
      { path: 'dir/link', action: 'overwrite', type: 'symlink' },
      { path: 'dir/second', action: 'create', type: 'hardlink' },
      { path: '.', action: 'overwrite', type: 'file', size: 3 },
    ]);
  });

  it('gives paths as lossless text: a newline as itself, a byte that is not UTF-8 as U+DC80+byte', () => {
    const { run, events } = makeTally();
    run.jobDone({ kind: 'file', path: 'a\uE00Ab' }, { outcome: 'created', size: 1 });
    run.jobDone({ kind: 'file', path: 'a\\nb' }, { outcome: 'created', size: 1 });
    run.jobDone({ kind: 'file', path: 'caf\u00e8' }, { outcome: 'created', size: 1 });
    run.jobDone({ kind: 'file', path: 'caf\u00e9' }, { outcome: 'created', size: 1 });
    expect(events.map((event) => event.path)).toEqual(['a\nb', 'a\\nb', 'caf\udce8', 'caf\udce9']);
  });

  it('gives failures and special files the same lossless text', () => {
    const { run, failures, skips } = makeTally();
    run.fail({ code: 'EACCES', operation: 'read', message: 'permission denied', path: '/src/caf\u00e8\uE00A' });
    run.specialFile({ kind: 'special', path: 'p\u00ff', specialType: 'FIFO' });
    expect(failures.map((f) => f.path)).toEqual(['/src/caf\udce8\n']);
    expect(skips.map((s) => s.path)).toEqual(['/src/p\udcff']);
  });

  const jobs: Record<Job['kind'], Job> = { file: fileJob, symlink: symlinkJob, hardlink: hardlinkJob };
  const skipReasons: Array<[OverwritePolicy, Job['kind'], string]> = [
    ['changed', 'file', 'same size and mtime'],
    ['checksum', 'file', 'same content'],
    ['never', 'file', 'exists at the destination'],
    ['older', 'file', 'not older at the destination'],
    ['changed', 'symlink', 'same target'],
    ['checksum', 'symlink', 'same target'],
    ['older', 'symlink', 'same target'],
    ['changed', 'hardlink', 'same inode'],
    ['older', 'hardlink', 'same inode'],
    ['never', 'symlink', 'exists at the destination'],
    ['never', 'hardlink', 'exists at the destination'],
  ];
  it.each(skipReasons)('under --overwrite %s, gives a skipped %s the reason "%s"', (overwrite, kind, reason) => {
    const { run, events } = makeTally({ overwrite });
    const job = jobs[kind];
    run.jobDone(job, { outcome: 'skipped', size: 0 });
    expect(events).toEqual([{ path: job.path, action: 'skip', type: kind, reason }]);
  });

  it('works without any listener', () => {
    const tally = new Tally({
      source: '/src',
      writtenTo: '/dst',
      destination: '/dst',
      onFailure: undefined,
      onSkip: undefined,
      onStop: () => {},
    });
    const entries = EntryEvents.forRun({ overwrite: 'changed', log: null, onEntry: undefined, stop: (error) => tally.stop(error) });
    expect(entries).toBeNull();
    const run = new RunEvents({ tally, progress: new Progress(undefined), entries, manifest: null, singleFileName: 'dst' });
    run.jobDone(fileJob, { outcome: 'created', size: 5 });
    run.jobDone(fileJob, { outcome: 'failed', size: 0, error: record('EACCES', 'read', '/src/dir/a.txt') });
    run.specialFile({ kind: 'special', path: 'fifo', specialType: 'FIFO' });
    expect(tally.counts.files).toBe(1);
    expect(tally.failures).toHaveLength(1);
    expect(tally.specialFiles).toEqual([{ path: '/src/fifo', reason: 'FIFO' }]);
  });
});

describe('Tally failures and the stop rule', () => {
  it('records an entry failure, calls onFailure and sends a fail event with the relative path', () => {
    const { tally, run, events, failures, stops } = makeTally();
    const error = record('EACCES', 'read', '/src/dir/a.txt');
    run.jobDone(fileJob, { outcome: 'failed', size: 0, error });
    const expected = { path: '/src/dir/a.txt', entry: 'dir/a.txt', code: 'EACCES', operation: 'read', message: 'something went wrong' };
    expect(tally.failures).toEqual([expected]);
    expect(failures).toEqual([expected]);
    expect(events).toEqual([{ path: 'dir/a.txt', action: 'fail', type: 'file', reason: 'something went wrong (EACCES)' }]);
    expect(tally.stoppedBy).toBeUndefined();
    expect(stops()).toBe(0);
    expect(tally.counts.files).toBe(0);
    expect(tally.counts.created).toBe(0);
  });

  it('gives the fail event of a symlink or hard link its type', () => {
    const { run, events } = makeTally();
    run.jobDone(symlinkJob, { outcome: 'failed', size: 0, error: record('EPERM', 'write') });
    run.jobDone(hardlinkJob, { outcome: 'failed', size: 0, error: record('EXDEV', 'link') });
    expect(events.map((event) => [event.path, event.type])).toEqual([
      ['dir/link', 'symlink'],
      ['dir/second', 'hardlink'],
    ]);
  });

  it('logs a failure the parent found by its full path relative to the root as every other, a directory as a directory', () => {
    const { run, events, failures } = makeTally();
    run.fail(record('EACCES', 'mkdir', '/dst/sub'));
    run.fail(record('EACCES', 'list', '/src/locked'));
    run.fail(record('EACCES', 'stat', '/src/listed.txt'));
    expect(events).toEqual([
      { path: 'sub', action: 'fail', type: 'directory', reason: 'something went wrong (EACCES)' },
      { path: 'locked', action: 'fail', type: 'directory', reason: 'something went wrong (EACCES)' },
      { path: 'listed.txt', action: 'fail', type: 'file', reason: 'something went wrong (EACCES)' },
    ]);
    expect(failures.map((failure) => [failure.path, failure.entry])).toEqual([
      ['/dst/sub', 'sub'],
      ['/src/locked', 'locked'],
      ['/src/listed.txt', 'listed.txt'],
    ]);
  });

  it('gives no entry for a failure outside the copy (its log file), and logs it by its path', () => {
    const { tally, run, events } = makeTally();
    run.fail(record('EIO', 'write', '/var/log/run.jsonl'));
    expect(tally.failures[0]?.entry).toBeUndefined();
    expect(events[0]?.path).toBe('/var/log/run.jsonl');
  });

  it.each(['ENOSPC', 'EDQUOT', 'EROFS'])('stops the run once on %s at the destination, and keeps it out of failures', (code) => {
    const { tally, run, events, failures, stops } = makeTally();
    run.fail(record(code, 'write', '/dst/dir/a.txt'), 'dir/a.txt');
    run.fail(record(code, 'mkdir', '/dst/dir/b'), 'dir/b');
    run.fail(record(code, 'rename', '/dst/dir/c'), 'dir/c');
    expect(tally.stoppedBy).toEqual({ path: '/dst/dir/a.txt', entry: 'dir/a.txt', code, operation: 'write', message: 'something went wrong' });
    expect(stops()).toBe(1);
    expect(tally.failures).toEqual([]);
    expect(failures).toEqual([]);
    expect(events).toEqual([]);
    expect(tally.hasFailures).toBe(true);
  });

  it.each(['link', 'set-metadata', 'verify', 'delete'] as const)('treats ENOSPC during %s as a destination-wide stop', (operation) => {
    const { tally, run, stops } = makeTally();
    run.fail(record('ENOSPC', operation));
    expect(tally.stoppedBy?.operation).toBe(operation);
    expect(tally.failures).toEqual([]);
    expect(stops()).toBe(1);
  });

  it.each(['read', 'stat', 'list'] as const)('keeps ENOSPC, EDQUOT and EROFS during %s as ordinary failures', (operation) => {
    const { tally, run, failures, stops } = makeTally();
    for (const code of ['ENOSPC', 'EDQUOT', 'EROFS']) run.fail(record(code, operation, '/src/x'), 'x');
    expect(tally.failures.map((failure) => failure.code)).toEqual(['ENOSPC', 'EDQUOT', 'EROFS']);
    expect(failures).toHaveLength(3);
    expect(tally.stoppedBy).toBeUndefined();
    expect(stops()).toBe(0);
  });

  it('keeps the first stop when stop() is called again', () => {
    const { tally, run, stops } = makeTally();
    run.stop(record('WORKER_CRASHED', 'worker', '/dst'));
    run.stop(record('ENOSPC', 'write'));
    expect(tally.stoppedBy).toEqual({ path: '/dst', entry: '.', code: 'WORKER_CRASHED', operation: 'worker', message: 'something went wrong' });
    expect(stops()).toBe(1);
  });

  it('shows a failure inside the staging directory under the destination path', () => {
    const { run, failures } = makeTally({ writtenTo: '/parent/.dst.123.foldercopy-part', destination: '/parent/dst' });
    run.fail(record('EACCES', 'write', '/parent/.dst.123.foldercopy-part/sub/file'), 'sub/file');
    expect(failures).toEqual([{ path: '/parent/dst/sub/file', entry: 'sub/file', code: 'EACCES', operation: 'write', message: 'something went wrong' }]);
  });

  it('shows a stop inside the staging directory under the destination path', () => {
    const { tally, run } = makeTally({ writtenTo: '/parent/.dst.123.foldercopy-part', destination: '/parent/dst' });
    run.fail(record('ENOSPC', 'write', '/parent/.dst.123.foldercopy-part/big'));
    expect(tally.stoppedBy?.path).toBe('/parent/dst/big');
  });

  it('leaves a source path as it is while staging', () => {
    const { tally, run } = makeTally({ writtenTo: '/parent/.dst.123.foldercopy-part', destination: '/parent/dst' });
    run.fail(record('EACCES', 'read', '/src/sub/file'), 'sub/file');
    expect(tally.failures[0]?.path).toBe('/src/sub/file');
  });

  it('has no failures until one is recorded', () => {
    const { tally, run } = makeTally();
    expect(tally.hasFailures).toBe(false);
    run.jobDone(fileJob, { outcome: 'created', size: 1 });
    run.specialFile({ kind: 'special', path: 'sock', specialType: 'socket' });
    expect(tally.hasFailures).toBe(false);
    run.fail(record('EIO', 'read', '/src/x'));
    expect(tally.hasFailures).toBe(true);
  });
});

describe('Tally special files', () => {
  it('records a skip under the source path, calls onSkip, and sends a skip event', () => {
    const { tally, run, skips, events } = makeTally();
    run.specialFile({ kind: 'special', path: 'dir/pipe', specialType: 'FIFO' });
    expect(tally.specialFiles).toEqual([{ path: '/src/dir/pipe', reason: 'FIFO' }]);
    expect(skips).toEqual([{ path: '/src/dir/pipe', reason: 'FIFO' }]);
    expect(events).toEqual([{ path: 'dir/pipe', action: 'skip', type: 'special', reason: 'FIFO, never opened' }]);
    expect(tally.counts.skipped).toBe(0);
    expect(tally.hasFailures).toBe(false);
  });
});
