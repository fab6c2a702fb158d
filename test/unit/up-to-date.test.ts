// The keep-or-replace decision (src/worker/up-to-date.ts) on real files in a temporary directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OverwritePolicy } from '../../src/shared/jobs.js';
import { sourceFileFromStats, type SourceFile } from '../../src/shared/metadata.js';
import type { EntryStats } from '../../src/shared/native.js';
import { statAt, type Place } from '../../src/worker/places.js';
import { Directories } from '../../src/worker/trees.js';
import { existingAt, keepsFile, keepsHardLink, keepsSymlink, refreshMetadata, type KeepCheck } from '../../src/worker/up-to-date.js';

const BUFFER = Buffer.alloc(64 * 1024);
let root: string;
let directories: Directories;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'foldercopy-up-to-date-'));
  fs.mkdirSync(path.join(root, 'src'));
  fs.mkdirSync(path.join(root, 'dst'));
  directories = new Directories(root);
});

afterEach(() => {
  directories.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function place(relative: string): Place {
  return directories.place(relative);
}

/** Writes a file with a given mtime (seconds, nanoseconds) and mode. */
function write(relative: string, content: string, mtime: [number, number] = [1_700_000_000, 123_456_789], mode = 0o644): void {
  const file = path.join(root, relative);
  fs.writeFileSync(file, content);
  fs.chmodSync(file, mode);
  // utimes takes seconds as a double: a whole second plus a fraction lands to the microsecond.
  fs.utimesSync(file, mtime[0], mtime[0] + mtime[1] / 1e9);
}

function source(relative: string): SourceFile {
  return sourceFileFromStats(statAt(place(relative))!);
}

function existing(relative: string): EntryStats {
  return existingAt(place(relative))!;
}

function check(policy: OverwritePolicy, modifyWindow = 0): KeepCheck {
  return { policy, modifyWindow, source: place('src/f'), destination: place('dst/f'), buffer: BUFFER };
}

function keeps(policy: OverwritePolicy, modifyWindow = 0): boolean {
  return keepsFile(source('src/f'), existing('dst/f'), check(policy, modifyWindow));
}

describe('keepsFile: whether a file already at the destination name stays', () => {
  it('nothing at the name: existingAt says so (null); a file where a directory was is ENOTDIR on the way', () => {
    expect(existingAt(place('dst/none'))).toBeNull();
    write('dst/plain', 'x');
    expect(() => directories.place('dst/plain/below')).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
  });

  it("'always' replaces and 'never' keeps, whatever is there", () => {
    write('src/f', 'same');
    write('dst/f', 'same');
    expect(keeps('always')).toBe(false);
    expect(keeps('never')).toBe(true);
  });

  it("'changed' keeps the same size and mtime, replaces a different size or mtime", () => {
    write('src/f', 'abcd');
    write('dst/f', 'wxyz');
    expect(keeps('changed')).toBe(true);
    write('dst/f', 'abcde');
    expect(keeps('changed')).toBe(false);
    write('dst/f', 'abcd', [1_700_000_001, 123_456_789]);
    expect(keeps('changed')).toBe(false);
  });

  it("'changed' keeps a copy whose mtime was kept to the microsecond only (an older copier's)", () => {
    write('src/f', 'abcd');
    write('dst/f', 'abcd');
    const src = source('src/f');
    const truncated: EntryStats = { ...existing('dst/f'), mtimeNs: (src.mtimeNs / 1000n) * 1000n };
    expect(keepsFile(src, truncated, check('changed'))).toBe(true);
    const elsewhere: EntryStats = { ...truncated, mtimeNs: truncated.mtimeNs + 1000n };
    expect(keepsFile(src, elsewhere, check('changed'))).toBe(false);
  });

  it("'older' keeps a newer copy, and an equal one of the same size; replaces an older one", () => {
    write('src/f', 'abcd', [1_700_000_000, 0]);
    write('dst/f', 'other', [1_700_000_100, 0]);
    expect(keeps('older')).toBe(true);
    write('dst/f', 'wxyz', [1_700_000_000, 0]);
    expect(keeps('older')).toBe(true);
    write('dst/f', 'wxyzw', [1_700_000_000, 0]);
    expect(keeps('older')).toBe(false);
    write('dst/f', 'abcd', [1_600_000_000, 0]);
    expect(keeps('older')).toBe(false);
  });

  it('a modify window: times that many seconds apart, either way, count as the same for \'changed\' and \'older\'', () => {
    write('src/f', 'abcd', [1_700_000_000, 500_000_000]);
    write('dst/f', 'abcd', [1_700_000_002, 0]);
    expect(keeps('changed')).toBe(false);
    expect(keeps('changed', 1)).toBe(false);
    expect(keeps('changed', 2)).toBe(true);
    write('dst/f', 'abcd', [1_699_999_999, 600_000_000]);
    expect(keeps('changed', 1)).toBe(true);
    // --update: within the window the copy is as new as the source, so it stays; an older one beyond it is replaced.
    expect(keeps('older')).toBe(false);
    expect(keeps('older', 1)).toBe(true);
    write('dst/f', 'abcd', [1_699_999_998, 0]);
    expect(keeps('older', 1)).toBe(false);
  });

  it("'checksum' compares the content, not the times", () => {
    write('src/f', 'abcd', [1_700_000_000, 0]);
    write('dst/f', 'abcd', [1_600_000_000, 0]);
    expect(keeps('checksum')).toBe(true);
    write('dst/f', 'abce');
    expect(keeps('checksum')).toBe(false);
  });

  it('a directory or a symlink at a file name is replaced under every policy but never', () => {
    write('src/f', 'abcd');
    fs.mkdirSync(path.join(root, 'dst/f'));
    for (const policy of ['changed', 'older', 'checksum', 'always'] as const) expect(keeps(policy), policy).toBe(false);
    fs.rmdirSync(path.join(root, 'dst/f'));
    fs.symlinkSync(path.join(root, 'src/f'), path.join(root, 'dst/f'));
    for (const policy of ['changed', 'older', 'checksum', 'always'] as const) expect(keeps(policy), policy).toBe(false);
    expect(keeps('never')).toBe(true);
  });
});

describe('keepsSymlink and keepsHardLink', () => {
  it('a symlink stays when it points at the same text', () => {
    fs.symlinkSync('target-a', path.join(root, 'dst/l'));
    const stats = existing('dst/l');
    expect(keepsSymlink(stats, 'changed', Buffer.from('target-a'), place('dst/l'))).toBe(true);
    expect(keepsSymlink(stats, 'changed', Buffer.from('target-b'), place('dst/l'))).toBe(false);
    expect(keepsSymlink(stats, 'always', Buffer.from('target-a'), place('dst/l'))).toBe(false);
    write('dst/f', 'x');
    expect(keepsSymlink(existing('dst/f'), 'changed', Buffer.from('x'), place('dst/f'))).toBe(false);
  });

  it('a second name stays when it is the same inode as the first name', () => {
    write('dst/first', 'x');
    fs.linkSync(path.join(root, 'dst/first'), path.join(root, 'dst/second'));
    write('dst/alone', 'x');
    expect(keepsHardLink(existing('dst/second'), 'changed', place('dst/first'))).toBe(true);
    expect(keepsHardLink(existing('dst/alone'), 'changed', place('dst/first'))).toBe(false);
    expect(keepsHardLink(existing('dst/alone'), 'never', place('dst/first'))).toBe(true);
    expect(keepsHardLink(existing('dst/second'), 'changed', place('dst/missing'))).toBe(false);
  });
});

describe('refreshMetadata: a kept file gets its source mode and times, in place', () => {
  it('fixes mode and mtime without rewriting the file (same inode, same content)', () => {
    write('src/f', 'abcd', [1_700_000_000, 500_000_000], 0o640);
    write('dst/f', 'abcd', [1_700_000_000, 0], 0o600);
    const before = fs.statSync(path.join(root, 'dst/f'));
    const src = source('src/f');
    expect(refreshMetadata(src, existing('dst/f'), place('dst/f'), { owner: undefined, xattrs: [], withXattrs: false, inheritsAcls: false })).toBe(0);
    const after = fs.statSync(path.join(root, 'dst/f'), { bigint: true });
    expect(Number(after.ino)).toBe(before.ino);
    expect(Number(after.mode & 0o7777n)).toBe(0o640);
    expect(after.mtimeNs).toBe(src.mtimeNs);
    expect(fs.readFileSync(path.join(root, 'dst/f'), 'utf8')).toBe('abcd');
  });

  it('never follows a symlink planted at the name: what it points at keeps its mode and times', () => {
    write('src/f', 'abcd', [1_700_000_000, 500_000_000], 0o640);
    write('outside', 'secret', [1_600_000_000, 0], 0o600);
    fs.symlinkSync(path.join(root, 'outside'), path.join(root, 'dst/f'));
    const planted = existing('dst/f');
    expect(() => refreshMetadata(source('src/f'), planted, place('dst/f'), { owner: undefined, xattrs: [], withXattrs: false, inheritsAcls: false })).toThrow();
    const outside = fs.statSync(path.join(root, 'outside'));
    expect(outside.mode & 0o7777).toBe(0o600);
    expect(Math.floor(outside.mtimeMs / 1000)).toBe(1_600_000_000);
  });
});
