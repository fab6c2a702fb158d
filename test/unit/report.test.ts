import { describe, expect, it } from 'vitest';
import { entryLine, exitCodeFor, failureLine, refusalJson, refusalLine, skipLine, stagedCopyLine, summaryJson, summaryLines } from '../../src/cli/report.js';
import type { CopyFailure, CopySummary } from '../../src/run/types.js';
import { FoldercopyError } from '../../src/shared/errors.js';

function summary(fields: Partial<CopySummary> = {}): CopySummary {
  return {
    source: '/src',
    destination: '/dst',
    dryRun: false,
    files: 0,
    directories: 0,
    symlinks: 0,
    hardLinks: 0,
    bytes: 0,
    created: 0,
    overwritten: 0,
    skipped: 0,
    deleted: 0,
    backedUp: 0,
    metadataNotKept: { xattrsNotSupported: 0, aclsNotSupported: 0, xattrsRefused: 0, unavailable: 0 },
    specialFiles: [],
    failures: [],
    warnings: [],
    durationMs: 0,
    aborted: false,
    stoppedBy: undefined,
    deletionSkipped: undefined,
    verified: undefined,
    ...fields,
  };
}

const denied: CopyFailure = { path: '/src/secret', code: 'EACCES', operation: 'read', message: 'permission denied' };
const full: CopyFailure = { path: '/dst/big', code: 'ENOSPC', operation: 'write', message: 'no space left on device' };

describe('exitCodeFor', () => {
  it('is 0 for a clean copy', () => {
    expect(exitCodeFor(summary({ files: 3 }), undefined)).toBe(0);
  });

  it('is 0 when only special files were skipped', () => {
    expect(exitCodeFor(summary({ specialFiles: [{ path: '/src/p', reason: 'FIFO' }] }), undefined)).toBe(0);
  });

  it('is 1 when an entry failed', () => {
    expect(exitCodeFor(summary({ failures: [denied] }), undefined)).toBe(1);
  });

  it('is 1 when the run was stopped', () => {
    expect(exitCodeFor(summary({ stoppedBy: full }), undefined)).toBe(1);
  });

  it('is 1 when deletion was skipped', () => {
    expect(exitCodeFor(summary({ deletionSkipped: 'more than 10 entries would be deleted' }), undefined)).toBe(1);
  });

  it('is 130 when aborted by SIGINT and 143 when aborted by SIGTERM', () => {
    expect(exitCodeFor(summary({ aborted: true }), 'SIGINT')).toBe(130);
    expect(exitCodeFor(summary({ aborted: true }), 'SIGTERM')).toBe(143);
    expect(exitCodeFor(summary({ aborted: true, failures: [denied] }), 'SIGINT')).toBe(130);
  });

  it('is 1 when aborted without a signal', () => {
    expect(exitCodeFor(summary({ aborted: true }), undefined)).toBe(1);
  });

  it('ignores a signal when the run was not aborted', () => {
    expect(exitCodeFor(summary(), 'SIGINT')).toBe(0);
  });
});

describe('summaryJson', () => {
  const parse = (text: string) => JSON.parse(text) as Record<string, unknown>;

  it('is "ok" with exit code 0, with every count, and ends with a newline', () => {
    const text = summaryJson(
      summary({
        dryRun: false,
        files: 5,
        directories: 2,
        symlinks: 1,
        hardLinks: 3,
        bytes: 1234,
        created: 9,
        overwritten: 1,
        skipped: 4,
        deleted: 6,
        durationMs: 1234.6,
        specialFiles: [
          { path: '/src/a', reason: 'FIFO' },
          { path: '/src/b', reason: 'socket' },
        ],
      }),
      0,
    );
    expect(text.endsWith('}\n')).toBe(true);
    expect(parse(text)).toEqual({
      schemaVersion: 1,
      status: 'ok',
      exitCode: 0,
      dryRun: false,
      source: '/src',
      destination: '/dst',
      durationMs: 1235,
      bytes: 1234,
      backedUp: 0,
      counts: {
        files: 5,
        directories: 2,
        symlinks: 1,
        hardLinks: 3,
        created: 9,
        overwritten: 1,
        skipped: 4,
        deleted: 6,
        specialFiles: 2,
        failed: 0,
      },
      failures: [],
      specialFiles: [
        { path: '/src/a', reason: 'FIFO' },
        { path: '/src/b', reason: 'socket' },
      ],
      stoppedBy: null,
      deletionSkipped: null,
      metadataNotKept: { xattrsNotSupported: 0, aclsNotSupported: 0, xattrsRefused: 0, unavailable: 0 },
      verified: null,
      warnings: [],
    });
  });

  it('gives --verify\'s count and how the copies were read', () => {
    expect(parse(summaryJson(summary({ verified: { files: 5, throughCache: 2, unchanged: 0 } }), 0)).verified).toEqual({ files: 5, fromDisk: 3, throughPageCache: 2, unchanged: 0 });
  });

  it('is "failed" with failures, counting them', () => {
    const document = parse(summaryJson(summary({ failures: [denied, denied] }), 1));
    expect(document.status).toBe('failed');
    expect(document.exitCode).toBe(1);
    expect((document.counts as Record<string, number>).failed).toBe(2);
    // `entry` is always there in the document: null for a failure that names no entry of the copy.
    expect(document.failures).toEqual([{ ...denied, entry: null }, { ...denied, entry: null }]);
  });

  it('is "failed" when deletion was skipped, with the reason', () => {
    const document = parse(summaryJson(summary({ deletionSkipped: 'the copy had failures' }), 1));
    expect(document.status).toBe('failed');
    expect(document.deletionSkipped).toBe('the copy had failures');
  });

  it('is "stopped" over "failed" when the run was stopped', () => {
    const document = parse(summaryJson(summary({ stoppedBy: full, failures: [denied] }), 1));
    expect(document.status).toBe('stopped');
    expect(document.stoppedBy).toEqual({ ...full, entry: null });
  });

  it('is "interrupted" over "stopped" when the run was aborted', () => {
    const document = parse(summaryJson(summary({ aborted: true, stoppedBy: full, failures: [denied] }), 130));
    expect(document.status).toBe('interrupted');
    expect(document.exitCode).toBe(130);
  });
});

describe('refusalJson', () => {
  it('gives status "refused" with the error’s code, message and path', () => {
    const error = new FoldercopyError('SOURCE_MISSING', 'source does not exist: /nope', '/nope');
    const text = refusalJson(error, 2);
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toEqual({
      schemaVersion: 1,
      status: 'refused',
      exitCode: 2,
      error: { code: 'SOURCE_MISSING', message: 'source does not exist: /nope', path: '/nope' },
    });
  });

  it('gives a null path when the error has none', () => {
    const error = new FoldercopyError('USAGE', 'missing argument');
    expect(JSON.parse(refusalJson(error, 2)).error).toEqual({ code: 'USAGE', message: 'missing argument', path: null });
  });
});

describe('failureLine', () => {
  it('reads foldercopy: <what failed>: <path>: <message> (<CODE>)', () => {
    expect(failureLine(denied)).toBe('foldercopy: cannot read: /src/secret: permission denied (EACCES)');
  });

  it.each([
    ['list', 'cannot list directory'],
    ['stat', 'cannot stat'],
    ['write', 'cannot write'],
    ['mkdir', 'cannot create directory'],
    ['rename', 'cannot move into place'],
    ['link', 'cannot create hard link'],
    ['set-metadata', 'cannot set mode, owner or times'],
    ['verify', 'verification failed'],
    ['delete', 'cannot delete'],
    ['worker', 'worker process died'],
  ] as const)('names a %s failure "%s"', (operation, what) => {
    expect(failureLine({ path: '/p', code: 'E', operation, message: 'm' })).toBe(`foldercopy: ${what}: /p: m (E)`);
  });
});

describe('lines for people render lossless paths with escapes', () => {
  const odd: CopyFailure = { path: '/src/caf\udce8/a\nb\\n', code: 'EACCES', operation: 'read', message: 'permission denied' };

  it('in a failure line: \\xHH for a byte that is not UTF-8, \\n for a newline, \\\\ for a backslash', () => {
    expect(failureLine(odd)).toBe('foldercopy: cannot read: /src/caf\\xe8/a\\nb\\\\n: permission denied (EACCES)');
    expect(failureLine({ ...odd, path: '/src/caf\udce9/a\\nb\n' })).not.toBe(failureLine(odd));
  });

  it('in a message holding a path, keeping it one line', () => {
    const line = failureLine({ ...odd, path: '/dst', message: 'the copy is in /.dst\n.1.foldercopy-part and could not be renamed' });
    expect(line).toBe('foldercopy: cannot read: /dst: the copy is in /.dst\\n.1.foldercopy-part and could not be renamed (EACCES)');
  });

  it('in a skip line, an entry line, the stop line and a refusal', () => {
    expect(skipLine({ path: '/src/p\udcff\n', reason: 'FIFO' })).toBe('foldercopy: skipped FIFO (never opened): /src/p\\xff\\n');
    expect(entryLine({ path: 'caf\udce8', action: 'create', type: 'file', size: 1 })).toBe('create caf\\xe8');
    expect(entryLine({ path: 'a\nb', action: 'skip', type: 'file', reason: 'same size and mtime' })).toBe('skip a\\nb (same size and mtime)');
    expect(entryLine({ path: 'a\\nb', action: 'delete', type: 'file' })).toBe('delete a\\\\nb');
    expect(summaryLines(summary({ stoppedBy: odd }))[1]).toBe('foldercopy: copy stopped: cannot read: /src/caf\\xe8/a\\nb\\\\n: permission denied (EACCES)');
    expect(refusalLine(new FoldercopyError('SOURCE_NOT_FOUND', 'the source does not exist: a\nb', 'a\nb'))).toBe(
      'foldercopy: the source does not exist: a\\nb',
    );
    expect(stagedCopyLine('/d/.copy\n.42.foldercopy-part')).toBe(
      'foldercopy: the partial copy is in /d/.copy\\n.42.foldercopy-part; run the same command again to resume it',
    );
  });

  it('while --json keeps them as they are', () => {
    const document = JSON.parse(summaryJson(summary({ failures: [odd] }), 1)) as { failures: CopyFailure[] };
    expect(document.failures[0]!.path).toBe(odd.path);
    expect(summaryJson(summary({ failures: [odd] }), 1)).toContain('"path": "/src/caf\\udce8/a\\nb\\\\n"');
  });
});

describe('summaryLines', () => {
  it('says how many files --verify read back and how, and nothing without it', () => {
    expect(summaryLines(summary({ verified: { files: 3, throughCache: 0, unchanged: 0 } }))).toContain('foldercopy: verified 3 files against the source, read back from the disk after fsync');
    expect(summaryLines(summary({ verified: { files: 1, throughCache: 1, unchanged: 0 } }))).toContain(
      'foldercopy: verified 1 file against the source; 1 of them read through the page cache, not from the disk: their cached pages could not be dropped here',
    );
    expect(summaryLines(summary({ verified: { files: 4, throughCache: 0, unchanged: 3 } }))).toContain(
      "foldercopy: verified 4 files against the source: 3 unchanged since the manifest's run read them back, 1 read back",
    );
    expect(summaryLines(summary({})).join('\n')).not.toContain('verified');
  });

  it('sums up a copy with counts, size, time and rate', () => {
    const lines = summaryLines(
      summary({ files: 1234, directories: 1, symlinks: 2, bytes: 2_500_000, durationMs: 2000, skipped: 3, specialFiles: [{ path: '/s', reason: 'FIFO' }] }),
    );
    expect(lines).toEqual([
      'foldercopy: copied 1,234 files, 1 directory, 2 symlinks, 2.50 MB in 2.0 s (1.25 MB/s); 3 skipped, 1 special file not copied, 0 failed',
    ]);
  });

  it('counts skipped entries as --json does, and special files apart, only when there are some', () => {
    const special = (n: number) => Array.from({ length: n }, (_, i) => ({ path: `/s${i}`, reason: 'FIFO' }));
    expect(summaryLines(summary({ specialFiles: special(1) }))[0]).toMatch(/; 0 skipped, 1 special file not copied, 0 failed$/);
    expect(summaryLines(summary({ skipped: 2, specialFiles: special(1234) }))[0]).toMatch(/; 2 skipped, 1,234 special files not copied, 0 failed$/);
    expect(summaryLines(summary({ skipped: 5 }))[0]).toMatch(/; 5 skipped, 0 failed$/);
    const json = JSON.parse(summaryJson(summary({ skipped: 2, specialFiles: special(3) }), 0)) as { counts: Record<string, number> };
    expect(json.counts).toMatchObject({ skipped: 2, specialFiles: 3 });
  });

  it('uses the singular for one of a kind', () => {
    const lines = summaryLines(summary({ files: 1, directories: 2, symlinks: 1, hardLinks: 1, bytes: 5, durationMs: 500, failures: [denied] }));
    expect(lines).toEqual(['foldercopy: copied 1 file, 2 directories, 1 symlink, 1 hard link, 5 B in 0.50 s (10 B/s); 0 skipped, 1 failed']);
  });

  it('shows hard links only when there are some', () => {
    expect(summaryLines(summary({ hardLinks: 0 }))[0]).not.toContain('hard link');
    expect(summaryLines(summary({ hardLinks: 2 }))[0]).toContain(', 2 hard links, ');
  });

  it('reports a rate of 0 for a run that took no time', () => {
    expect(summaryLines(summary({ bytes: 100, durationMs: 0 }))).toEqual([
      'foldercopy: copied 0 files, 0 directories, 0 symlinks, 100 B in 0.00 s (0 B/s); 0 skipped, 0 failed',
    ]);
  });

  it('words a dry run as would copy, without timing, and deletions as to delete', () => {
    const lines = summaryLines(summary({ dryRun: true, files: 2, bytes: 2000, durationMs: 5000, deleted: 3 }));
    expect(lines).toEqual(['foldercopy: dry run, nothing changed: would copy 2 files, 0 directories, 0 symlinks, 2.00 kB; 0 skipped, 3 to delete, 0 failed']);
  });

  it('counts deletions of a real run as deleted', () => {
    expect(summaryLines(summary({ deleted: 1 }))[0]).toContain('; 0 skipped, 1 deleted, 0 failed');
  });

  it('adds a line naming what stopped the copy', () => {
    const lines = summaryLines(summary({ stoppedBy: full, files: 1, bytes: 10, durationMs: 1000 }));
    expect(lines).toEqual([
      'foldercopy: stopped after copying 1 file, 0 directories, 0 symlinks, 10 B in 1.0 s (10 B/s); 0 skipped, 0 failed',
      'foldercopy: copy stopped: cannot write: /dst/big: no space left on device (ENOSPC)',
    ]);
  });

  it('says interrupted when aborted, before stopped', () => {
    const lines = summaryLines(summary({ aborted: true, stoppedBy: full }));
    expect(lines[0]).toMatch(/^foldercopy: interrupted after copying 0 files,/);
    expect(lines).toHaveLength(3);
    // A single Ctrl-C leaves the partial copy under its final name: how to finish it is said too.
    expect(lines[2]).toMatch(/^foldercopy: \S+ holds a partial copy; run the same command again to finish it$/);
  });

  it('adds a line when deletion was skipped, worded for a dry run too', () => {
    expect(summaryLines(summary({ deletionSkipped: 'the copy had failures' }))[1]).toBe('foldercopy: deleted nothing: the copy had failures');
    expect(summaryLines(summary({ dryRun: true, deletionSkipped: 'the copy had failures' }))[1]).toBe(
      'foldercopy: would delete nothing: the copy had failures',
    );
  });
});
