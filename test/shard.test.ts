// --shard K/N on the real CLI: each shard copies exactly the files rclone's --hash-filter rule gives it (shard.ts,
// test/unit/shard.test.ts), makes every directory, and deletes only its own extraneous entries; N shards, run one
// after another into one destination or each into its own, make the whole copy.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFolder, FoldercopyError } from '../dist/index.js';
import { rawFromBytes } from '../src/shared/raw-path.js';
import { shardOf } from '../src/source/shard.js';
import { runCli } from './helpers/run-cli.js';
import { diffTrees, oddNamesTree, snapshotTree, useTempDirs, writeTree, type TreeSnapshot } from './helpers/tree.js';

const tempDir = useTempDirs();
const SHARDS = 3;
const TIMEOUT = { timeoutMs: 60_000 };

/** A second name for `linked/a.txt` that falls in another shard (oddNamesTree's two names of one inode share one). */
const SPLIT_LINK = (() => {
  for (let i = 0; ; i++) if (shardOf(`linked/b${i}.txt`, SHARDS) !== shardOf('linked/a.txt', SHARDS)) return `linked/b${i}.txt`;
})();

async function sourceTree(): Promise<{ root: string; source: string }> {
  const root = await tempDir();
  const source = path.join(root, 'src');
  await writeTree(source, [...oddNamesTree(), { path: 'linked/a.txt', type: 'file', content: 'one inode\n' }, { path: SPLIT_LINK, type: 'hardlink', target: 'linked/a.txt' }]);
  return { root, source };
}

/** Relative paths of the snapshot's entries (the root left out), by kind: what a shard must hold, and what it holds. */
function keys(snapshot: TreeSnapshot, shard?: number): string[] {
  const kept: string[] = [];
  for (const [key, entry] of snapshot.entries) {
    if (key === '') continue;
    if (shard === undefined || entry.type === 'dir' || shardOf(rawFromBytes(entry.rawPath), SHARDS) === shard) kept.push(key);
  }
  return kept.sort();
}

describe('--shard K/N', () => {
  it('copies into separate destinations exactly the files of each shard, every directory in each, and together the whole tree', { timeout: 180_000 }, async () => {
    const { root, source } = await sourceTree();
    const original = await snapshotTree(source);
    const covered = new Set<string>();
    for (let shard = 0; shard < SHARDS; shard++) {
      const dest = path.join(root, `out${shard}`);
      const result = await runCli(['--shard', `${shard}/${SHARDS}`, '--json', source, dest], TIMEOUT);
      expect(result.stderr).toContain(`foldercopy: shard ${shard}/${SHARDS}: copied `);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ status: 'ok', shard: { index: shard, count: SHARDS } });
      const copy = await snapshotTree(dest);
      expect(keys(copy)).toEqual(keys(original, shard));
      // Every entry it has is the source's, byte for byte, with its mode and times; every directory too.
      for (const key of keys(copy)) {
        const [mine, theirs] = [copy.entries.get(key)!, original.entries.get(key)!];
        expect(mine, key).toMatchObject({ type: theirs.type, mode: theirs.mode, size: theirs.size, sha256: theirs.sha256, mtimeNs: theirs.mtimeNs });
        covered.add(key);
      }
    }
    expect([...covered].sort()).toEqual(keys(original));
    // The rule splits this tree: no shard is empty of files, none has them all.
    const files = keys(original).filter((key) => original.entries.get(key)!.type !== 'dir');
    for (let shard = 0; shard < SHARDS; shard++) {
      const count = files.filter((key) => shardOf(rawFromBytes(original.entries.get(key)!.rawPath), SHARDS) === shard).length;
      expect(count).toBeGreaterThan(0);
      expect(count).toBeLessThan(files.length);
    }
  });

  it('run one after another into one destination, the shards make the same tree as a plain copy', { timeout: 180_000 }, async () => {
    const { root, source } = await sourceTree();
    const dest = path.join(root, 'dest');
    for (let shard = 0; shard < SHARDS; shard++) {
      const result = await runCli(['--shard', `${shard}/${SHARDS}`, source, dest], TIMEOUT);
      expect(result.exitCode, result.stderr).toBe(0);
    }
    const plain = path.join(root, 'plain');
    expect((await runCli([source, plain], TIMEOUT)).exitCode).toBe(0);
    const merged = await snapshotTree(dest);
    // Names of one inode in different shards are separate files, with the same content; in one shard they stay linked.
    expect(shardOf('hardlinks/first.txt', SHARDS)).toBe(shardOf('hardlinks/second.txt', SHARDS));
    expect(merged.entries.get('hardlinks/second.txt')!.hardLinkGroup).toBe('hardlinks/first.txt');
    expect(merged.entries.get(SPLIT_LINK)).toMatchObject({ hardLinkGroup: null, sha256: merged.entries.get('linked/a.txt')!.sha256 });
    expect(diffTrees(await snapshotTree(plain), merged)).toEqual(['linked/a.txt', SPLIT_LINK].map((name) => `${name}: hard-link group "linked/a.txt" != null`));
    expect(diffTrees(await snapshotTree(plain), merged, { ignore: ['hardLinks'] })).toEqual([]);
    expect(diffTrees(await snapshotTree(source), merged, { ignore: ['hardLinks'] })).toEqual([]);
  });

  it('with --delete, deletes only the extraneous entries of its shard, and a directory once the last shard empties it', { timeout: 180_000 }, async () => {
    const { root, source } = await sourceTree();
    const dest = path.join(root, 'dest');
    expect((await runCli([source, dest], TIMEOUT)).exitCode).toBe(0);
    const extraneous = Array.from({ length: 6 }, (_, i) => [`gone-${i}.txt`, `gone-dir/sub/old-${i}.txt`]).flat();
    await writeTree(dest, Object.fromEntries(extraneous.map((name) => [name, `${name}\n`])));
    const shardsOf = (names: string[]): Set<number> => new Set(names.map((name) => shardOf(name, SHARDS)));
    // The extraneous directory holds files of more than one shard, so the first shard cannot empty it.
    expect(shardsOf(extraneous.filter((name) => name.startsWith('gone-dir/'))).size).toBeGreaterThan(1);
    const left = new Set(extraneous);
    for (let shard = 0; shard < SHARDS; shard++) {
      const result = await runCli(['--shard', `${shard}/${SHARDS}`, '--delete', '--json', source, dest], TIMEOUT);
      expect(result.exitCode, result.stderr).toBe(0);
      const mine = extraneous.filter((name) => shardOf(name, SHARDS) === shard);
      for (const name of mine) left.delete(name);
      const dirGone = ![...left].some((name) => name.startsWith('gone-dir/'));
      const { counts } = JSON.parse(result.stdout) as { counts: { deleted: number } };
      // Its files, and the two directories once none of the others' is left in them.
      expect(counts.deleted).toBe(mine.length + (dirGone && mine.some((name) => name.startsWith('gone-dir/')) ? 2 : 0));
      const now = keys(await snapshotTree(dest));
      for (const name of extraneous) expect(now.includes(name), `${name} after shard ${shard}`).toBe(left.has(name));
      expect(now.includes('gone-dir'), `gone-dir after shard ${shard}`).toBe(!dirGone);
    }
    expect(diffTrees(await snapshotTree(source), await snapshotTree(dest))).toEqual([]);
  });

  it.each(['3/3', '0/0', 'a/b', '-1/2', '1/2/3', '1'])('refuses --shard %s: one line, exit 2, nothing copied', async (value) => {
    const { root, source } = await sourceTree();
    const dest = path.join(root, 'dest');
    const result = await runCli(['--shard', value, source, dest], TIMEOUT);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(`foldercopy: option '--shard <k/n>' argument '${value}' is invalid. expected k/n, whole numbers with 0 <= k < n (0/8 to 7/8 for 8 shards). (see foldercopy --help)\n`);
    expect(result.stdout).toBe('');
    expect((await snapshotTree(root)).entries.has('dest')).toBe(false);
  });

  it('checks the library option: { index, count } with 0 <= index < count', async () => {
    const { root, source } = await sourceTree();
    const dest = path.join(root, 'dest');
    for (const shard of [{ index: 3, count: 3 }, { index: 0, count: 0 }, { index: -1, count: 2 }, { index: 1.5, count: 2 }, '1/2', null]) {
      const copying = copyFolder(source, dest, { shard: shard as unknown as { index: number; count: number } });
      await expect(copying).rejects.toBeInstanceOf(FoldercopyError);
      await expect(copying).rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(/^the shard option must be \{ index, count \}, whole numbers with 0 <= index < count, got /) });
    }
    expect((await snapshotTree(root)).entries.has('dest')).toBe(false);
    const summary = await copyFolder(source, dest, { shard: { index: 1, count: SHARDS } });
    expect(summary.failures).toEqual([]);
    expect(keys(await snapshotTree(dest))).toEqual(keys(await snapshotTree(source), 1));
  });
});
