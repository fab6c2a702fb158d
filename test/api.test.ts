// The library API as an embedding tool uses it: progress, summary, abort, errors.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFolder, copyFolders, FoldercopyError, stagedCopies, type CopyProgress, type EntryEvent } from '../dist/index.js';
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

describe('copyFolders()', () => {
  it("copies several sources each to destination/<name> and sums them, with each copy's summary and entry paths in the destination", async () => {
    const root = await tempDir();
    await writeTree(path.join(root, 'a'), { 'one.txt': 'one', 'sub/two.txt': 'two' });
    await writeTree(path.join(root, 'b'), { 'three.txt': 'three' });
    const events: EntryEvent[] = [];

    const summary = await copyFolders([path.join(root, 'a'), path.join(root, 'b')], path.join(root, 'dest'), { jobs: 1, onEntry: (e) => events.push(e) });

    expect(fs.readFileSync(path.join(root, 'dest/a/sub/two.txt'), 'utf8')).toBe('two');
    expect(fs.readFileSync(path.join(root, 'dest/b/three.txt'), 'utf8')).toBe('three');
    expect(summary).toMatchObject({ source: '', destination: path.join(root, 'dest'), files: 3, bytes: 11, failures: [], aborted: false });
    expect(summary.copies.map((copy) => [copy.source, copy.destination, copy.files])).toEqual([
      [path.join(root, 'a'), path.join(root, 'dest/a'), 2],
      [path.join(root, 'b'), path.join(root, 'dest/b'), 1],
    ]);
    expect(events.filter((e) => e.type === 'file').map((e) => e.path).sort()).toEqual(['a/one.txt', 'a/sub/two.txt', 'b/three.txt']);
  });

  it('one source: the copyFolder() summary itself, and a glob with flat puts each match into the destination', async () => {
    const root = await tempDir();
    await writeTree(path.join(root, 'src'), { 'x/1.map': '1', 'y/2.map': '22', 'y/3.js': '333' });

    const one = await copyFolders([path.join(root, 'src')], path.join(root, 'whole'));
    expect(one).toMatchObject({ source: path.join(root, 'src'), files: 3 });
    expect(one.copies).toHaveLength(1);

    const flat = await copyFolders([path.join(root, 'src/**/*.map')], path.join(root, 'maps'), { flat: true });
    expect(fs.readdirSync(path.join(root, 'maps')).sort()).toEqual(['1.map', '2.map']);
    expect(flat).toMatchObject({ files: 2, bytes: 3 });
    expect(flat.copies).toHaveLength(2);
  });

  it('refuses bad sources and options before copying, and a later refusal carries what was copied', async () => {
    const root = await tempDir();
    await writeTree(path.join(root, 'a'), { 'f': 'a' });
    await expect(copyFolders('a' as unknown as string[], path.join(root, 'd'))).rejects.toMatchObject({ code: 'USAGE' });
    await expect(copyFolders([path.join(root, 'a')], path.join(root, 'd'), { flat: 'yes' as unknown as boolean })).rejects.toThrow('the flat option must be true or false');
    await expect(copyFolders([path.join(root, 'a'), path.join(root, 'missing')], path.join(root, 'd'))).rejects.toMatchObject({ code: 'SOURCE_NOT_FOUND' });
    expect(fs.existsSync(path.join(root, 'd'))).toBe(false);
    await expect(copyFolders([path.join(root, 'a/f'), path.join(root, 'a')], path.join(root, 'd'), { log: path.join(root, 'log') })).rejects.toThrow(
      'the log option and the manifest option take one source',
    );
    // onCopies sees the calls to come, and refuses them all by throwing.
    const told: unknown[] = [];
    const refusing = (copies: readonly unknown[]): void => {
      told.push(...copies);
      throw new FoldercopyError('USAGE', 'not these');
    };
    await expect(copyFolders([path.join(root, 'a')], path.join(root, 'd'), { onCopies: refusing })).rejects.toThrow('not these');
    expect(told).toEqual([{ source: path.join(root, 'a'), destination: path.join(root, 'd') }]);
    expect(fs.existsSync(path.join(root, 'd'))).toBe(false);
  });

  it("stagedCopies() names a first copy's staging directory while it is made, and nothing once it is in place", async () => {
    const root = await tempDir();
    await writeTree(path.join(root, 'src'), Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`f${i}`, `${i}`])));
    const seen: string[][] = [];
    await copyFolder(path.join(root, 'src'), path.join(root, 'copy'), { onProgress: () => seen.push(stagedCopies()) });
    expect(seen.some((paths) => paths.length === 1 && path.dirname(paths[0]!) === root && paths[0]!.endsWith('.foldercopy-part'))).toBe(true);
    expect(stagedCopies()).toEqual([]);
  });
});
