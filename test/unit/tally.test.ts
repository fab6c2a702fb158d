import { describe, expect, it } from 'vitest';
import type { ErrorRecord } from '../../src/shared/errors.js';
import type { Job, OverwritePolicy } from '../../src/shared/jobs.js';
import { Tally, type TallyOptions } from '../../src/run/tally.js';
import { LOST_ACLS, LOST_UNAVAILABLE, LOST_XATTRS } from '../../src/shared/xattrs.js';
import type { CopyFailure, CopySkip, EntryEvent } from '../../src/run/types.js';

function makeTally(options: Partial<TallyOptions> = {}) {
  const events: EntryEvent[] = [];
  const failures: CopyFailure[] = [];
  const skips: CopySkip[] = [];
  let stops = 0;
  const tally = new Tally({
    source: '/src',
    writtenTo: '/dst',
    destination: '/dst',
    overwrite: 'changed',
    log: null,
    onFailure: (failure) => failures.push(failure),
    onSkip: (skip) => skips.push(skip),
    onEntry: (event) => events.push(event),
    onStop: () => stops++,
    ...options,
  });
  return { tally, events, failures, skips, stops: () => stops };
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
    const { tally } = makeTally();
    tally.jobDone(fileJob, { outcome: 'created', size: 100 });
    tally.jobDone({ kind: 'file', path: 'b' }, { outcome: 'overwritten', size: 50 });
    tally.jobDone(symlinkJob, { outcome: 'created', size: 7 });
    tally.jobDone(hardlinkJob, { outcome: 'created', size: 100 });
    expect(tally.counts).toEqual({
      files: 2,
      directories: 0,
      symlinks: 1,
      hardLinks: 1,
      bytes: 150,
      created: 3,
      overwritten: 1,
      skipped: 0,
      deleted: 0,
      metadataNotKept: NONE_LOST,
    });
  });

  it('counts a skipped entry as skipped only, not by kind nor bytes', () => {
    const { tally } = makeTally();
    tally.jobDone(fileJob, { outcome: 'skipped', size: 100 });
    tally.jobDone(symlinkJob, { outcome: 'skipped', size: 0 });
    expect(tally.counts).toEqual({
      files: 0,
      directories: 0,
      symlinks: 0,
      hardLinks: 0,
      bytes: 0,
      created: 0,
      overwritten: 0,
      skipped: 2,
      deleted: 0,
      metadataNotKept: NONE_LOST,
    });
  });

  it('counts entries copied without some metadata by what they lost, as neither failures nor events', () => {
    const { tally } = makeTally();
    tally.jobDone(fileJob, { outcome: 'created', size: 100, lost: LOST_XATTRS });
    tally.jobDone({ kind: 'file', path: 'b' }, { outcome: 'skipped', size: 5, lost: LOST_XATTRS | LOST_ACLS });
    // A directory's losses, as finalize() returns them.
    tally.metadataLost(LOST_UNAVAILABLE);
    expect(tally.counts.metadataNotKept).toEqual({ ...NONE_LOST, xattrsNotSupported: 2, aclsNotSupported: 1, unavailable: 1 });
    expect(tally.failures).toEqual([]);
    expect(tally.hasFailures).toBe(false);
    expect(tally.counts.files).toBe(1);
  });

  it('counts a directory made as created, with a create event where the root is "."', () => {
    const { tally, events } = makeTally();
    const meta = { mode: 0o755, uid: 0, gid: 0, atime: 0, mtime: 0 };
    tally.directoryMade({ path: '', ...meta });
    tally.directoryMade({ path: 'sub', ...meta });
    expect(tally.counts.directories).toBe(2);
    expect(tally.counts.created).toBe(2);
    expect(events).toEqual([
      { path: '.', action: 'create', type: 'directory' },
      { path: 'sub', action: 'create', type: 'directory' },
    ]);
  });

  it('counts deletions only when asked to, with an event either way', () => {
    const { tally, events } = makeTally();
    tally.deleted('old', true, true);
    tally.deleted('old/inner', false, false);
    expect(tally.counts.deleted).toBe(1);
    expect(events).toEqual([
      { path: 'old', action: 'delete', type: 'directory' },
      { path: 'old/inner', action: 'delete', type: 'file' },
    ]);
  });
});

describe('Tally entry events', () => {
  it('delivers create and overwrite events, with a size for files only', () => {
    const { tally, events } = makeTally();
    tally.jobDone(fileJob, { outcome: 'created', size: 12 });
    tally.jobDone(symlinkJob, { outcome: 'overwritten', size: 0 });
    tally.jobDone(hardlinkJob, { outcome: 'created', size: 12 });
    tally.jobDone({ kind: 'file', path: '' }, { outcome: 'overwritten', size: 3 });
    expect(events).toEqual([
      { path: 'dir/a.txt', action: 'create', type: 'file', size: 12 },
      { path: 'dir/link', action: 'overwrite', type: 'symlink' },
      { path: 'dir/second', action: 'create', type: 'hardlink' },
      { path: '.', action: 'overwrite', type: 'file', size: 3 },
    ]);
  });

  it('gives paths as lossless text: a newline as itself, a byte that is not UTF-8 as U+DC80+byte', () => {
    const { tally, events } = makeTally();
    tally.jobDone({ kind: 'file', path: 'a\uE00Ab' }, { outcome: 'created', size: 1 });
    tally.jobDone({ kind: 'file', path: 'a\\nb' }, { outcome: 'created', size: 1 });
    tally.jobDone({ kind: 'file', path: 'caf\u00e8' }, { outcome: 'created', size: 1 });
    tally.jobDone({ kind: 'file', path: 'caf\u00e9' }, { outcome: 'created', size: 1 });
    expect(events.map((event) => event.path)).toEqual(['a\nb', 'a\\nb', 'caf\udce8', 'caf\udce9']);
  });

  it('gives failures and special files the same lossless text', () => {
    const { tally, failures, skips } = makeTally();
    tally.fail({ code: 'EACCES', operation: 'read', message: 'permission denied', path: '/src/caf\u00e8\uE00A' });
    tally.specialFile({ kind: 'special', path: 'p\u00ff', specialType: 'FIFO' });
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
    const { tally, events } = makeTally({ overwrite });
    const job = jobs[kind];
    tally.jobDone(job, { outcome: 'skipped', size: 0 });
    expect(events).toEqual([{ path: job.path, action: 'skip', type: kind, reason }]);
  });

  it('works without any listener', () => {
    const tally = new Tally({
      source: '/src',
      writtenTo: '/dst',
      destination: '/dst',
      overwrite: 'changed',
      log: null,
      onFailure: undefined,
      onSkip: undefined,
      onEntry: undefined,
      onStop: () => {},
    });
    tally.jobDone(fileJob, { outcome: 'created', size: 5 });
    tally.jobDone(fileJob, { outcome: 'failed', size: 0, error: record('EACCES', 'read', '/src/dir/a.txt') });
    tally.specialFile({ kind: 'special', path: 'fifo', specialType: 'FIFO' });
    expect(tally.counts.files).toBe(1);
    expect(tally.failures).toHaveLength(1);
    expect(tally.specialFiles).toEqual([{ path: '/src/fifo', reason: 'FIFO' }]);
  });
});

describe('Tally failures and the stop rule', () => {
  it('records an entry failure, calls onFailure and sends a fail event with the relative path', () => {
    const { tally, events, failures, stops } = makeTally();
    const error = record('EACCES', 'read', '/src/dir/a.txt');
    tally.jobDone(fileJob, { outcome: 'failed', size: 0, error });
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
    const { tally, events } = makeTally();
    tally.jobDone(symlinkJob, { outcome: 'failed', size: 0, error: record('EPERM', 'write') });
    tally.jobDone(hardlinkJob, { outcome: 'failed', size: 0, error: record('EXDEV', 'link') });
    expect(events.map((event) => [event.path, event.type])).toEqual([
      ['dir/link', 'symlink'],
      ['dir/second', 'hardlink'],
    ]);
  });

  it('logs a failure the parent found by its full path relative to the root as every other, a directory as a directory', () => {
    const { tally, events, failures } = makeTally();
    tally.fail(record('EACCES', 'mkdir', '/dst/sub'));
    tally.fail(record('EACCES', 'list', '/src/locked'));
    tally.fail(record('EACCES', 'stat', '/src/listed.txt'));
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
    const { tally, events } = makeTally();
    tally.fail(record('EIO', 'write', '/var/log/run.jsonl'));
    expect(tally.failures[0]?.entry).toBeUndefined();
    expect(events[0]?.path).toBe('/var/log/run.jsonl');
  });

  it.each(['ENOSPC', 'EDQUOT', 'EROFS'])('stops the run once on %s at the destination, and keeps it out of failures', (code) => {
    const { tally, events, failures, stops } = makeTally();
    tally.fail(record(code, 'write', '/dst/dir/a.txt'), 'dir/a.txt');
    tally.fail(record(code, 'mkdir', '/dst/dir/b'), 'dir/b');
    tally.fail(record(code, 'rename', '/dst/dir/c'), 'dir/c');
    expect(tally.stoppedBy).toEqual({ path: '/dst/dir/a.txt', entry: 'dir/a.txt', code, operation: 'write', message: 'something went wrong' });
    expect(stops()).toBe(1);
    expect(tally.failures).toEqual([]);
    expect(failures).toEqual([]);
    expect(events).toEqual([]);
    expect(tally.hasFailures).toBe(true);
  });

  it.each(['link', 'set-metadata', 'verify', 'delete'] as const)('treats ENOSPC during %s as a destination-wide stop', (operation) => {
    const { tally, stops } = makeTally();
    tally.fail(record('ENOSPC', operation));
    expect(tally.stoppedBy?.operation).toBe(operation);
    expect(tally.failures).toEqual([]);
    expect(stops()).toBe(1);
  });

  it.each(['read', 'stat', 'list'] as const)('keeps ENOSPC, EDQUOT and EROFS during %s as ordinary failures', (operation) => {
    const { tally, failures, stops } = makeTally();
    for (const code of ['ENOSPC', 'EDQUOT', 'EROFS']) tally.fail(record(code, operation, '/src/x'), 'x');
    expect(tally.failures.map((failure) => failure.code)).toEqual(['ENOSPC', 'EDQUOT', 'EROFS']);
    expect(failures).toHaveLength(3);
    expect(tally.stoppedBy).toBeUndefined();
    expect(stops()).toBe(0);
  });

  it('keeps the first stop when stop() is called again', () => {
    const { tally, stops } = makeTally();
    tally.stop(record('WORKER_CRASHED', 'worker', '/dst'));
    tally.stop(record('ENOSPC', 'write'));
    expect(tally.stoppedBy).toEqual({ path: '/dst', entry: '.', code: 'WORKER_CRASHED', operation: 'worker', message: 'something went wrong' });
    expect(stops()).toBe(1);
  });

  it('shows a failure inside the staging directory under the destination path', () => {
    const { tally, failures } = makeTally({ writtenTo: '/parent/.dst.123.foldercopy-part', destination: '/parent/dst' });
    tally.fail(record('EACCES', 'write', '/parent/.dst.123.foldercopy-part/sub/file'), 'sub/file');
    expect(failures).toEqual([{ path: '/parent/dst/sub/file', entry: 'sub/file', code: 'EACCES', operation: 'write', message: 'something went wrong' }]);
  });

  it('shows a stop inside the staging directory under the destination path', () => {
    const { tally } = makeTally({ writtenTo: '/parent/.dst.123.foldercopy-part', destination: '/parent/dst' });
    tally.fail(record('ENOSPC', 'write', '/parent/.dst.123.foldercopy-part/big'));
    expect(tally.stoppedBy?.path).toBe('/parent/dst/big');
  });

  it('leaves a source path as it is while staging', () => {
    const { tally } = makeTally({ writtenTo: '/parent/.dst.123.foldercopy-part', destination: '/parent/dst' });
    tally.fail(record('EACCES', 'read', '/src/sub/file'), 'sub/file');
    expect(tally.failures[0]?.path).toBe('/src/sub/file');
  });

  it('has no failures until one is recorded', () => {
    const { tally } = makeTally();
    expect(tally.hasFailures).toBe(false);
    tally.jobDone(fileJob, { outcome: 'created', size: 1 });
    tally.specialFile({ kind: 'special', path: 'sock', specialType: 'socket' });
    expect(tally.hasFailures).toBe(false);
    tally.fail(record('EIO', 'read', '/src/x'));
    expect(tally.hasFailures).toBe(true);
  });
});

describe('Tally special files', () => {
  it('records a skip under the source path, calls onSkip, and sends a skip event', () => {
    const { tally, skips, events } = makeTally();
    tally.specialFile({ kind: 'special', path: 'dir/pipe', specialType: 'FIFO' });
    expect(tally.specialFiles).toEqual([{ path: '/src/dir/pipe', reason: 'FIFO' }]);
    expect(skips).toEqual([{ path: '/src/dir/pipe', reason: 'FIFO' }]);
    expect(events).toEqual([{ path: 'dir/pipe', action: 'skip', type: 'special', reason: 'FIFO, never opened' }]);
    expect(tally.counts.skipped).toBe(0);
    expect(tally.hasFailures).toBe(false);
  });
});
