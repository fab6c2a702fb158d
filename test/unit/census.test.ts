import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Census, type CensusCount } from '../../src/run/census.js';
import { directoryEntry } from '../../src/source/entry.js';
import type { ListingFilter } from '../../src/source/walk.js';

let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'foldercopy-census-'));
  fs.mkdirSync(path.join(root, 'sub/deeper'), { recursive: true });
  fs.writeFileSync(path.join(root, 'ten'), 'x'.repeat(10));
  fs.writeFileSync(path.join(root, 'sub/twenty'), 'x'.repeat(20));
  fs.writeFileSync(path.join(root, 'sub/deeper/hundred'), 'x'.repeat(100));
  fs.linkSync(path.join(root, 'sub/deeper/hundred'), path.join(root, 'second-name'));
  fs.symlinkSync('ten', path.join(root, 'link'));
  execFileSync('mkfifo', [path.join(root, 'fifo')]);
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** Every count the census reported, in order. */
async function count(filter: ListingFilter | null = null, stopFirst = false): Promise<CensusCount[]> {
  const reports: CensusCount[] = [];
  const census = new Census(root, { filter, selection: null, oneFileSystem: false }, { onCount: (counted) => reports.push({ ...counted }) });
  if (stopFirst) census.stop();
  await census.run();
  return reports;
}

describe('Census', () => {
  it('counts files and symlinks as the copy does, and the bytes of regular files, a shared inode once', async () => {
    // ten, twenty, hundred, its second name and the link; the FIFO is not copied. Files first, then their bytes.
    expect(await count()).toEqual([{ files: 5 }, { files: 5, bytes: 130 }]);
  });

  it('leaves out what the filters leave out', async () => {
    const noSub: ListingFilter = { admit: (relative, dirents) => (relative === '' ? dirents.filter((d) => d.name !== 'sub') : dirents) };
    expect((await count(noSub)).at(-1)).toEqual({ files: 3, bytes: 60 });
  });

  it('gives no count once stopped', async () => {
    expect(await count(null, true)).toEqual([]);
  });

  it('hands the copy’s walk the access time a directory had before the census listed it', async () => {
    const sub = path.join(root, 'sub');
    const old = new Date('2001-02-03T04:05:06Z');
    fs.utimesSync(sub, old, fs.statSync(sub).mtime);
    const census = new Census(root, { filter: null, selection: null, oneFileSystem: false }, { onCount: () => undefined });
    await census.run();
    const after = fs.statSync(sub, { bigint: true });
    // Listing updates an access time older than the mtime, unless the file system never does (noatime).
    if (after.atimeMs === BigInt(old.getTime())) return;
    const seenByWalk = directoryEntry('sub', after);
    census.takeAccessTime(directoryEntry('', fs.statSync(root, { bigint: true })));
    census.takeAccessTime(seenByWalk);
    expect(seenByWalk.atimeNs).toBe(BigInt(old.getTime()) * 1_000_000n);
    expect(seenByWalk.atime).toBeCloseTo(old.getTime() / 1000, 6);
  });
  it('only sizes once the copy’s walk is done, and tells each large file as it sizes it', async () => {
    // Sparse: 8 MiB of size, no blocks.
    fs.writeFileSync(path.join(root, 'sub/large'), '');
    fs.truncateSync(path.join(root, 'sub/large'), 8 * 1024 * 1024);
    const reports: CensusCount[] = [];
    const large: string[] = [];
    const census = new Census(
      root,
      { filter: null, selection: null, oneFileSystem: false },
      { onCount: (counted) => reports.push({ ...counted }), onLarge: (found) => large.push(found) },
    );
    census.walkDone();
    await census.run();
    expect(reports).toEqual([{ files: 6, bytes: 130 + 8 * 1024 * 1024 }]);
    expect(large).toEqual(['sub/large']);
  });
});
