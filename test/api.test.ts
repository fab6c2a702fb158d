// The library API as an embedding tool uses it: progress, summary, abort, errors.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFolder, FoldercopyError, type CopyProgress } from '../dist/index.js';
import { diffTrees, findTempLeftovers, snapshotTree, useTempDirs, writeTree, type TreeEntry } from './helpers/tree.js';

const tempDir = useTempDirs();

function manyFiles(count: number): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (let i = 0; i < count; i++) {
    entries.push({ path: `d${i % 17}/sub${i % 5}/file${i}.txt`, type: 'file', content: `file ${i} `.repeat(1 + (i % 300)) });
  }
  entries.push({ path: 'links/rel', type: 'symlink', target: '../d0' });
  entries.push({ path: 'links/dangling', type: 'symlink', target: 'nowhere' });
  entries.push({ path: 'hard/one', type: 'file', content: 'shared inode' });
  entries.push({ path: 'hard/two', type: 'hardlink', target: 'hard/one' });
  entries.push({ path: 'empty', type: 'dir' });
  return entries;
}

describe('copyFolder()', () => {
  it('reports monotonic progress that ends at the totals, and a summary that matches the tree', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    await writeTree(source, manyFiles(1500));
    const snapshots: CopyProgress[] = [];

    const summary = await copyFolder(source, path.join(root, 'copy'), { jobs: 2, onProgress: (p) => snapshots.push(p) });

    expect(summary).toMatchObject({ files: 1501, symlinks: 2, hardLinks: 1, directories: 1 + 17 + 17 * 5 + 3, failures: [], aborted: false });
    const bytes = manyFiles(1500).reduce((sum, e) => sum + (e.type === 'file' ? Buffer.byteLength(e.content as string) : 0), 0);
    expect(summary.bytes).toBe(bytes);
    expect(snapshots.length).toBeGreaterThan(1);
    for (let i = 1; i < snapshots.length; i++) {
      const [before, after] = [snapshots[i - 1]!, snapshots[i]!];
      expect(after.filesDone).toBeGreaterThanOrEqual(before.filesDone);
      expect(after.bytesDone).toBeGreaterThanOrEqual(before.bytesDone);
      expect(after.percent).toBeGreaterThanOrEqual(before.percent);
      if (before.listing) expect(before.percent).toBe(0);
    }
    expect(snapshots.at(-1)).toMatchObject({ filesDone: 1504, filesTotal: 1504, bytesDone: bytes, listing: false, percent: 100 });
    expect(diffTrees(await snapshotTree(source), await snapshotTree(path.join(root, 'copy')))).toEqual([]);
  });

  it('copies and reports each file once though workers hand files back: past 4 MiB in a batch, with other names, large', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    const medium = Array.from({ length: 40 }, (_, i): TreeEntry => ({ path: `medium/m${i}.bin`, type: 'file', content: randomBytes(512 * 1024) }));
    const bigShared = randomBytes(9 * 1024 * 1024);
    await writeTree(source, [
      ...medium,
      { path: 'shared/big', type: 'file', content: bigShared },
      { path: 'shared/big-2', type: 'hardlink', target: 'shared/big' },
      { path: 'shared/big-3', type: 'hardlink', target: 'shared/big' },
      { path: 'shared/small', type: 'file', content: 'small' },
      { path: 'shared/small-2', type: 'hardlink', target: 'shared/small' },
      { path: 'alone.bin', type: 'file', content: randomBytes(8 * 1024 * 1024) },
    ]);
    const copied: string[] = [];
    let last: CopyProgress | undefined;

    const summary = await copyFolder(source, path.join(root, 'copy'), {
      jobs: 2,
      onEntry: (entry) => entry.type !== 'directory' && copied.push(entry.path),
      onProgress: (progress) => (last = progress),
    });

    const bytes = 40 * 512 * 1024 + bigShared.length + 'small'.length + 8 * 1024 * 1024;
    expect(summary).toMatchObject({ files: 43, hardLinks: 3, bytes, failures: [] });
    expect(copied.sort()).toEqual([...medium.map((e) => e.path), 'alone.bin', 'shared/big', 'shared/big-2', 'shared/big-3', 'shared/small', 'shared/small-2'].sort());
    expect(last).toMatchObject({ filesDone: 46, filesTotal: 46, bytesDone: bytes, percent: 100 });
    expect(diffTrees(await snapshotTree(source), await snapshotTree(path.join(root, 'copy')))).toEqual([]);
  });

  it('stops when its signal is aborted: a partial copy, no temporary files, aborted: true', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    await writeTree(source, manyFiles(3000));
    const controller = new AbortController();

    const summary = await copyFolder(source, path.join(root, 'copy'), {
      jobs: 1,
      signal: controller.signal,
      // At the first file done: progress is throttled to 10 a second, and 3,000 small files may take less.
      onEntry: (entry) => entry.type === 'file' && controller.abort(),
    });

    expect(summary.aborted).toBe(true);
    expect(summary.files).toBeGreaterThan(0);
    expect(summary.files).toBeLessThan(3001);
    expect(await findTempLeftovers(path.join(root, 'copy'))).toEqual([]);
  });

  it('rejects with a FoldercopyError naming the path when the copy cannot start, and writes nothing', async () => {
    const root = await tempDir();
    const missing = path.join(root, 'missing');

    const error = await copyFolder(missing, path.join(root, 'copy')).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FoldercopyError);
    expect(error).toMatchObject({ code: 'SOURCE_NOT_FOUND', path: missing });
    expect(fs.existsSync(path.join(root, 'copy'))).toBe(false);
  });

  it('rejects a jobs count that is not a positive integer', async () => {
    const root = await tempDir();
    await expect(copyFolder(root, path.join(root, '..', 'x'), { jobs: 0 })).rejects.toMatchObject({
      name: 'FoldercopyError',
      code: 'USAGE',
      message: 'the jobs option must be a whole number from 1 to 64, got 0',
    });
  });
});
