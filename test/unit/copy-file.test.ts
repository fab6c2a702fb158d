// The regular-file pipeline (src/worker/copy-file.ts): both writers, the keep-or-replace prelude,
// hand-backs and refusals, on real files in a temporary directory. Nothing is mocked.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileJob, WorkerSettings } from '../../src/shared/jobs.js';
import { LARGE_FILE_BYTES } from '../../src/shared/jobs.js';
import { endsLikeOurName } from '../../src/shared/names-on-disk.js';
import type { JobResult } from '../../src/shared/protocol.js';
import { copyFile } from '../../src/worker/copy-file.js';
import { jobPaths, type BatchContext } from '../../src/worker/job-result.js';
import { Destination, Directories } from '../../src/worker/trees.js';

const BUFFER = Buffer.allocUnsafe(256 * 1024);
let root: string;
let src: string;
let dst: string;
let sources: Directories;
let destination: Destination;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'foldercopy-pipeline-'));
  src = path.join(root, 'src');
  dst = path.join(root, 'dst');
  fs.mkdirSync(src);
  fs.mkdirSync(dst);
  sources = new Directories(src, { lookUpOnly: true });
  destination = new Destination(dst, false);
});

afterEach(() => {
  sources.close();
  destination.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function settings(overrides: Partial<WorkerSettings> = {}): WorkerSettings {
  return {
    overwrite: 'changed',
    modifyWindow: 0,
    dryRun: false,
    verify: false,
    digest: false,
    staged: false,
    owners: { preserve: false, uid: -1, gid: -1, groupInherited: false, xattrs: true },
    backup: null,
    ...overrides,
  };
}

function copy(job: FileJob, overrides: Partial<WorkerSettings> = {}, onBytes?: (copied: number) => void): JobResult | Promise<JobResult> {
  const context: BatchContext = { settings: settings(overrides), place: destination, buffer: BUFFER, pid: process.pid };
  const file = jobPaths({ source: path.join(src, job.path), final: path.join(dst, job.path), relative: job.path, from: sources.place(job.path), to: destination.place(job.path) });
  file.onBytes = onBytes;
  return copyFile(job, file, context);
}

function leftovers(): string[] {
  return fs.readdirSync(dst).filter(endsLikeOurName);
}

describe('the block writer', () => {
  it('a first copy: the bytes, the mode and the mtime to the nanosecond, under its final name, nothing else left', () => {
    fs.writeFileSync(path.join(src, 'a'), 'hello');
    fs.chmodSync(path.join(src, 'a'), 0o640);
    fs.utimesSync(path.join(src, 'a'), 1_600_000_000, 1_700_000_000.25);
    const result = copy({ kind: 'file', path: 'a' });
    expect(result).toEqual({ outcome: 'created', size: 5 });
    expect(fs.readFileSync(path.join(dst, 'a'), 'utf8')).toBe('hello');
    const copied = fs.statSync(path.join(dst, 'a'), { bigint: true });
    expect(Number(copied.mode & 0o7777n)).toBe(0o640);
    expect(copied.mtimeNs).toBe(fs.statSync(path.join(src, 'a'), { bigint: true }).mtimeNs);
    expect(leftovers()).toEqual([]);
  });

  it('a staged copy writes at the name itself; a file bigger than the buffer is read in several calls', () => {
    const content = Buffer.alloc(BUFFER.length * 3 + 17, 5);
    fs.writeFileSync(path.join(src, 'big'), content);
    expect(copy({ kind: 'file', path: 'big' }, { staged: true })).toEqual({ outcome: 'created', size: content.length });
    expect(fs.readFileSync(path.join(dst, 'big')).equals(content)).toBe(true);
  });

  it('with --verify and a digest: the SHA-256 of the content comes back', () => {
    fs.writeFileSync(path.join(src, 'a'), 'abc');
    const result = copy({ kind: 'file', path: 'a' }, { verify: true, digest: true }) as JobResult;
    expect(result.digest).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('the keep-or-replace prelude', () => {
  it('an identical copy is kept as it is (the same inode); a different one is replaced whole', () => {
    fs.writeFileSync(path.join(src, 'a'), 'new content');
    expect(copy({ kind: 'file', path: 'a' })).toMatchObject({ outcome: 'created' });
    const inode = fs.statSync(path.join(dst, 'a')).ino;
    expect(copy({ kind: 'file', path: 'a', mayExist: true })).toEqual({ outcome: 'skipped', size: 11 });
    expect(fs.statSync(path.join(dst, 'a')).ino).toBe(inode);
    fs.writeFileSync(path.join(dst, 'a'), 'old');
    expect(copy({ kind: 'file', path: 'a', mayExist: true })).toEqual({ outcome: 'overwritten', size: 11 });
    expect(fs.readFileSync(path.join(dst, 'a'), 'utf8')).toBe('new content');
    expect(leftovers()).toEqual([]);
  });

  it('a dry run decides and writes nothing', () => {
    fs.writeFileSync(path.join(src, 'a'), 'x');
    expect(copy({ kind: 'file', path: 'a', mayExist: true }, { dryRun: true })).toEqual({ outcome: 'created', size: 1 });
    expect(fs.readdirSync(dst)).toEqual([]);
  });

  it('a symlink planted at the destination name is replaced, and what it points at is untouched', () => {
    fs.writeFileSync(path.join(src, 'a'), 'copy');
    fs.writeFileSync(path.join(root, 'outside'), 'keep me');
    fs.symlinkSync(path.join(root, 'outside'), path.join(dst, 'a'));
    expect(copy({ kind: 'file', path: 'a', mayExist: true })).toMatchObject({ outcome: 'overwritten' });
    expect(fs.lstatSync(path.join(dst, 'a')).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(root, 'outside'), 'utf8')).toBe('keep me');
  });
});

describe('hand-backs and refusals', () => {
  it('a file with other names, not chosen as the first, is handed back with its inode; nothing written', () => {
    fs.writeFileSync(path.join(src, 'a'), 'x');
    fs.linkSync(path.join(src, 'a'), path.join(src, 'b'));
    const result = copy({ kind: 'file', path: 'b' }) as JobResult;
    expect(result.outcome).toBe('otherNames');
    const stats = fs.statSync(path.join(src, 'a'), { bigint: true });
    expect(result.inode).toBe(`${stats.dev}:${stats.ino}`);
    expect(copy({ kind: 'file', path: 'b', firstName: true })).toMatchObject({ outcome: 'created' });
    expect(fs.readdirSync(dst)).toEqual(['b']);
  });

  it('a large file not sent as one is handed back: for the kernel to write, or the block loop when sparse or hashed', () => {
    fs.writeFileSync(path.join(src, 'big'), Buffer.alloc(LARGE_FILE_BYTES, 1));
    expect(copy({ kind: 'file', path: 'big' })).toEqual({ outcome: 'large', size: LARGE_FILE_BYTES });
    expect(copy({ kind: 'file', path: 'big' }, { digest: true })).toEqual({ outcome: 'largeForked', size: LARGE_FILE_BYTES });
    expect(copy({ kind: 'file', path: 'big' }, { verify: true })).toEqual({ outcome: 'largeForked', size: LARGE_FILE_BYTES });
    fs.writeFileSync(path.join(src, 'holes'), '');
    fs.truncateSync(path.join(src, 'holes'), LARGE_FILE_BYTES);
    expect(copy({ kind: 'file', path: 'holes' })).toEqual({ outcome: 'largeForked', size: LARGE_FILE_BYTES });
    expect(fs.readdirSync(dst)).toEqual([]);
  });

  it('a source replaced by a symlink is not read through (O_NOFOLLOW), and nothing is written', () => {
    fs.writeFileSync(path.join(root, 'secret'), 'secret');
    fs.symlinkSync(path.join(root, 'secret'), path.join(src, 'a'));
    const result = copy({ kind: 'file', path: 'a' }) as JobResult;
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'ELOOP', operation: 'read', path: path.join(src, 'a') } });
    expect(fs.readdirSync(dst)).toEqual([]);
  });

  it('a source directory swapped for a symlink is not entered', () => {
    fs.mkdirSync(path.join(root, 'elsewhere'));
    fs.writeFileSync(path.join(root, 'elsewhere', 'a'), 'secret');
    fs.symlinkSync(path.join(root, 'elsewhere'), path.join(src, 'sub'));
    expect(() => sources.place('sub/a')).toThrow(expect.objectContaining({ code: expect.stringMatching(/^(ELOOP|ENOTDIR)$/) }));
  });
});

describe('a large file in the parent (BatchContext.inParent)', () => {
  it('is cloned at once or, where the file system cannot (ext4, tmpfs), handed back for a forked worker, leaving nothing', () => {
    fs.writeFileSync(path.join(src, 'big'), Buffer.alloc(LARGE_FILE_BYTES, 5));
    const context: BatchContext = { settings: settings({}), place: destination, buffer: BUFFER, pid: process.pid, inParent: true };
    const file = jobPaths({ source: path.join(src, 'big'), final: path.join(dst, 'big'), relative: 'big', from: sources.place('big'), to: destination.place('big') });
    const result = copyFile({ kind: 'file', path: 'big', large: true }, file, context);
    expect(result).not.toBeInstanceOf(Promise);
    if ((result as JobResult).outcome === 'largeForked') expect(fs.readdirSync(dst)).toEqual([]);
    else {
      expect(result).toEqual({ outcome: 'created', size: LARGE_FILE_BYTES });
      expect(fs.readFileSync(path.join(dst, 'big')).equals(fs.readFileSync(path.join(src, 'big')))).toBe(true);
    }
  });
});

describe('the kernel writer (a large file, sent alone)', () => {
  it('copies the whole file through a promise, and lands it at its name with its mtime', async () => {
    const content = Buffer.alloc(LARGE_FILE_BYTES + 4096);
    for (let i = 0; i < content.length; i += 4096) content[i] = i & 0xff;
    fs.writeFileSync(path.join(src, 'large'), content);
    const reported: number[] = [];
    const running = copy({ kind: 'file', path: 'large', large: true }, {}, (bytes) => reported.push(bytes));
    expect(running).toBeInstanceOf(Promise);
    expect(await running).toEqual({ outcome: 'created', size: content.length });
    expect(fs.readFileSync(path.join(dst, 'large')).equals(content)).toBe(true);
    expect(fs.statSync(path.join(dst, 'large'), { bigint: true }).mtimeNs).toBe(fs.statSync(path.join(src, 'large'), { bigint: true }).mtimeNs);
    expect(leftovers()).toEqual([]);
  });

  it('a large file whose content is hashed goes through the block loop, reporting its bytes', async () => {
    const content = Buffer.alloc(LARGE_FILE_BYTES + 1, 3);
    fs.writeFileSync(path.join(src, 'large'), content);
    const reported: number[] = [];
    const result = await copy({ kind: 'file', path: 'large', large: true }, { digest: true }, (bytes) => reported.push(bytes));
    expect(result).toMatchObject({ outcome: 'created', size: content.length, digest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(reported.at(-1)).toBe(content.length);
    expect(fs.readFileSync(path.join(dst, 'large')).equals(content)).toBe(true);
  });
});
