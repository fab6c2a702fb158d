// What a user checks after copying a tree: bytes, modes, times, links, names.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_PATH, isRoot, runCli, runCommand } from './helpers/run-cli.js';
import { diffTrees, EDGE_MTIME_NS, findTempLeftovers, oddNamesTree, snapshotTree, useTempDirs, writeTree } from './helpers/tree.js';

const tempDir = useTempDirs();

describe('copying a tree', () => {
  it('makes a copy identical to the source: bytes, modes, times, links, hard links, odd names', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    await writeTree(source, oddNamesTree());
    // Reading a file for its hash updates its atime (relatime) once; after that it is stable,
    // so the second snapshot is what the copier sees and must reproduce.
    await snapshotTree(source);
    const before = await snapshotTree(source, { atime: true, sparse: true });

    const result = await runCli([source, path.join(root, 'copy')]);

    expect(result.stderr).toMatch(/copied \d+ files/);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('');
    const copy = await snapshotTree(path.join(root, 'copy'), { atime: true, sparse: true });
    expect(diffTrees(before, copy)).toEqual([]);
    expect(diffTrees(before, await snapshotTree(source, { atime: true, sparse: true }))).toEqual([]);

    // Again over the finished copy: everything is up to date and skipped. Hashing the copy above
    // read its files, so their atimes moved; a skipped file keeps them, as with rsync.
    const again = await runCli([source, path.join(root, 'copy')]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/copied 0 files, 0 directories, 0 symlinks, .*; 32 skipped, 0 failed/);
    expect(diffTrees(before, await snapshotTree(path.join(root, 'copy'), { sparse: true }))).toEqual([]);

    // With --force every file, link and hard link is replaced in place, atimes included, nothing left over.
    const forced = await runCli(['--force', source, path.join(root, 'copy')]);
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(diffTrees(before, await snapshotTree(path.join(root, 'copy'), { atime: true, sparse: true }))).toEqual([]);
    expect(await findTempLeftovers(path.join(root, 'copy'))).toEqual([]);
  });

  it('keeps a mtime of x.999999999 s to the nanosecond, within its second', async () => {
    const root = await tempDir();
    await writeTree(path.join(root, 'source'), [{ path: 'edge.txt', type: 'file', content: 'x', mtime: EDGE_MTIME_NS }]);

    await runCli([path.join(root, 'source'), path.join(root, 'copy')]);

    const copied = fs.statSync(path.join(root, 'copy', 'edge.txt'), { bigint: true }).mtimeNs;
    expect(copied).toBe(EDGE_MTIME_NS);
  });

  it('copies the contents into an existing destination, and a re-run does not nest', async () => {
    const root = await tempDir();
    const source = path.join(root, 'build');
    await writeTree(source, { 'a.txt': 'a', 'sub/b.txt': 'b' });
    const destination = path.join(root, 'backup');
    fs.mkdirSync(destination);

    expect((await runCli([source, destination])).exitCode).toBe(0);
    expect((await runCli([source, destination])).exitCode).toBe(0);

    expect(fs.readdirSync(destination).sort()).toEqual(['a.txt', 'sub']);
    expect(fs.readFileSync(path.join(destination, 'sub', 'b.txt'), 'utf8')).toBe('b');
  });

  it('copies to <source>_copy beside the source when no destination is given', async () => {
    const root = await tempDir();
    await writeTree(path.join(root, 'photos'), { 'cat.jpg': 'meow' });

    const result = await runCli(['photos'], { cwd: root });

    expect(result.exitCode).toBe(0);
    expect(fs.readFileSync(path.join(root, 'photos_copy', 'cat.jpg'), 'utf8')).toBe('meow');
  });

  it('gives directories exactly their modes, whatever the umask or a set-group-ID parent hands down', async () => {
    // As root, the copy runs as nobody: root keeps owners, and that path always sets modes with chmod.
    const asUser = isRoot() ? ('nobody' as const) : undefined;
    const root = await tempDir();
    fs.chmodSync(root, 0o755);
    const source = path.join(root, 'source');
    const modes: Record<string, number> = { a: 0o755, 'a/b': 0o700, c: 0o750, d: 0o775, e: 0o555, f: 0o1777, g: 0o711 };
    await writeTree(source, [
      ...Object.entries(modes).map(([dir, mode]) => ({ path: dir, type: 'dir' as const, mode })),
      { path: 'e/inside.txt', type: 'file', content: 'in a read-only directory' },
    ]);
    const inheriting = path.join(root, 'shared');
    const plain = path.join(root, 'plain');
    fs.mkdirSync(inheriting);
    fs.mkdirSync(plain);
    if (asUser) {
      for (const entry of [source, inheriting, plain, ...fs.readdirSync(source, { recursive: true }).map((name) => path.join(source, String(name)))]) {
        fs.lchownSync(entry, 65534, 65534);
      }
    }
    fs.chmodSync(inheriting, 0o2775);
    const modesIn = (copy: string): Record<string, number> =>
      Object.fromEntries(Object.keys(modes).map((dir) => [dir, fs.statSync(path.join(copy, dir)).mode & 0o7777]));
    const copyWithUmask = (umask: string, destination: string) =>
      runCommand(['sh', '-c', `umask ${umask}; exec "$@"`, 'sh', process.execPath, CLI_PATH, source, destination], { asUser });

    const inherited = await copyWithUmask('022', path.join(inheriting, 'copy'));
    const strict = await copyWithUmask('077', path.join(plain, 'copy'));

    expect(inherited.exitCode, inherited.stderr).toBe(0);
    expect(strict.exitCode, strict.stderr).toBe(0);
    expect(modesIn(path.join(inheriting, 'copy'))).toEqual(modes);
    expect(modesIn(path.join(plain, 'copy'))).toEqual(modes);

    // A re-run puts back a mode changed in the copy.
    fs.chmodSync(path.join(plain, 'copy', 'a'), 0o700);
    const again = await copyWithUmask('022', path.join(plain, 'copy'));
    expect(again.exitCode, again.stderr).toBe(0);
    expect(modesIn(path.join(plain, 'copy'))).toEqual(modes);
  });

  it('copies a single file as that file', async () => {
    const root = await tempDir();
    await writeTree(root, [{ path: 'report.pdf', type: 'file', content: 'pdf', mode: 0o640, mtime: 1_600_000_000_250_000_000n }]);

    expect((await runCli(['report.pdf', 'out/renamed.pdf'], { cwd: root })).exitCode).toBe(0);
    expect((await runCli(['report.pdf'], { cwd: root })).exitCode).toBe(0);

    for (const copy of ['out/renamed.pdf', 'report_copy.pdf']) {
      const stats = fs.statSync(path.join(root, copy), { bigint: true });
      expect(fs.readFileSync(path.join(root, copy), 'utf8')).toBe('pdf');
      expect(Number(stats.mode & 0o777n)).toBe(0o640);
      expect(stats.mtimeNs / 1_000_000n).toBe(1_600_000_000_250n);
    }
  });

  it('copies a single file named through a symlink as the file it points to (a symlinked root is followed), first copy and re-run', async () => {
    const root = await tempDir();
    await writeTree(root, [
      { path: 'real/report.pdf', type: 'file', content: 'pdf', mode: 0o640, mtime: 1_600_000_000_250_000_000n },
      { path: 'report-link', type: 'symlink', target: 'real/report.pdf' },
    ]);
    // Large enough for the kernel copy, which opens the source on its own path.
    fs.writeFileSync(path.join(root, 'real/big.bin'), Buffer.alloc(9 * 1024 * 1024, 7));
    fs.symlinkSync('real/big.bin', path.join(root, 'big-link'));

    for (const [link, copy] of [['report-link', 'out/report.pdf'], ['big-link', 'out/big.bin']] as const) {
      const first = await runCli([link, copy], { cwd: root });
      expect(first.exitCode, first.stderr).toBe(0);
      const again = await runCli([link, copy], { cwd: root });
      expect(again.exitCode, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/; 1 skipped, 0 failed$/m);
      expect(fs.lstatSync(path.join(root, copy)).isFile()).toBe(true);
    }
    expect(fs.readFileSync(path.join(root, 'out/report.pdf'), 'utf8')).toBe('pdf');
    expect(fs.statSync(path.join(root, 'out/report.pdf')).mode & 0o777).toBe(0o640);
    expect(fs.readFileSync(path.join(root, 'out/big.bin')).equals(fs.readFileSync(path.join(root, 'real/big.bin')))).toBe(true);
  });

  it('skips a FIFO with a warning naming it, without opening it', async () => {
    const root = await tempDir();
    await writeTree(path.join(root, 'source'), [
      { path: 'pipe', type: 'fifo' },
      { path: 'after.txt', type: 'file', content: 'still copied' },
    ]);

    const result = await runCli([path.join(root, 'source'), path.join(root, 'copy')], { timeoutMs: 20_000 });

    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(`skipped FIFO (never opened): ${path.join(root, 'source', 'pipe')}`);
    expect(result.stderr).toMatch(/; 0 skipped, 1 special file not copied, 0 failed$/m);
    expect(fs.existsSync(path.join(root, 'copy', 'pipe'))).toBe(false);
    expect(fs.readFileSync(path.join(root, 'copy', 'after.txt'), 'utf8')).toBe('still copied');
  });

  it('keeps sparse files sparse', async () => {
    const root = await tempDir();
    const size = 64 * 1024 * 1024;
    await writeTree(path.join(root, 'source'), [
      { path: 'disk.img', type: 'sparse', size, data: [{ offset: 1024 * 1024, data: Buffer.alloc(8192, 7) }] },
    ]);

    expect((await runCli([path.join(root, 'source'), path.join(root, 'copy')])).exitCode).toBe(0);

    const copy = fs.statSync(path.join(root, 'copy', 'disk.img'));
    expect(copy.size).toBe(size);
    expect(copy.blocks * 512).toBeLessThan(1024 * 1024);
    const bytes = fs.readFileSync(path.join(root, 'copy', 'disk.img'));
    expect(bytes.subarray(1024 * 1024, 1024 * 1024 + 8192).every((byte) => byte === 7)).toBe(true);
  });

  it.skipIf(!isRoot())('keeps owner and group of files, directories and symlinks when run as root (skipped when not root: only root can give files away)', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    await writeTree(source, [
      { path: 'theirs/file.txt', type: 'file', content: 'owned by nobody', mode: 0o4755 },
      { path: 'theirs/link', type: 'symlink', target: 'file.txt' },
      { path: 'mine.txt', type: 'file', content: 'owned by root' },
    ]);
    fs.lchownSync(path.join(source, 'theirs', 'link'), 65534, 65534);
    fs.chownSync(path.join(source, 'theirs', 'file.txt'), 65534, 65533);
    fs.chmodSync(path.join(source, 'theirs', 'file.txt'), 0o4755);
    fs.chownSync(path.join(source, 'theirs'), 65534, 65534);
    const before = await snapshotTree(source);

    expect((await runCli([source, path.join(root, 'copy')])).exitCode).toBe(0);

    expect(diffTrees(before, await snapshotTree(path.join(root, 'copy')))).toEqual([]);
    const copied = fs.statSync(path.join(root, 'copy', 'theirs', 'file.txt'));
    expect([copied.uid, copied.gid, copied.mode & 0o7777]).toEqual([65534, 65533, 0o4755]);
  });
});

describe('a re-run and the directories it finds', () => {
  const dirTimes = (dir: string) => {
    const stats = fs.lstatSync(dir, { bigint: true });
    return { atimeNs: stats.atimeNs, mtimeNs: stats.mtimeNs };
  };

  it('a no-op writes nothing to a directory (its ctime stays), and each one still has its source\'s times', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    writeTree(source, { 'a/one.txt': '1', 'a/deep/two.txt': '2', 'b/three.txt': '3', 'top.txt': 't' });
    const copy = path.join(root, 'copy');
    expect((await runCli([source, copy])).exitCode).toBe(0);
    // The first copy's reading moved the source directories' atimes (relatime): the second run gives them.
    expect((await runCli([source, copy])).exitCode).toBe(0);
    // The root is timed on every run: the case probe writes a file in it.
    const dirs = ['a', 'a/deep', 'b'];
    const ctimes = dirs.map((dir) => fs.lstatSync(path.join(copy, dir), { bigint: true }).ctimeNs);

    const again = await runCli([source, copy]);

    expect(again.exitCode, again.stderr).toBe(0);
    expect(dirs.map((dir) => fs.lstatSync(path.join(copy, dir), { bigint: true }).ctimeNs)).toEqual(ctimes);
    for (const dir of ['', ...dirs]) expect(dirTimes(path.join(copy, dir)), dir).toEqual(dirTimes(path.join(source, dir)));
  });

  it('a directory the re-run wrote in, or listed (--delete), gets its source\'s times again', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    writeTree(source, { 'rewritten/one.txt': '1', 'listed/two.txt': '2', 'listed/gone.txt': 'g' });
    const copy = path.join(root, 'copy');
    // The second run gives the atimes the first one's reading moved: from then on, the copy's directories have the source's times.
    for (let run = 0; run < 2; run++) expect((await runCli([source, copy])).exitCode).toBe(0);
    // A file rewritten in place leaves its directory's times as they were: the copy's is written in (a temporary file renamed).
    fs.writeFileSync(path.join(source, 'rewritten', 'one.txt'), 'one, rewritten');
    fs.utimesSync(path.join(source, 'rewritten', 'one.txt'), new Date(2020, 0, 1), new Date(2020, 0, 2));
    // Times more than a day old, on both sides: a listing of the copy (the delete pass's) moves its atime (relatime).
    const old = { atime: new Date(2001, 1, 1), mtime: new Date(2002, 2, 2) };
    for (const tree of [source, copy]) fs.utimesSync(path.join(tree, 'listed'), old.atime, old.mtime);

    const again = await runCli(['--delete', source, copy]);

    expect(again.exitCode, again.stderr).toBe(0);
    expect(fs.readFileSync(path.join(copy, 'rewritten', 'one.txt'), 'utf8')).toBe('one, rewritten');
    expect(dirTimes(path.join(copy, 'rewritten')).mtimeNs).toBe(dirTimes(path.join(source, 'rewritten')).mtimeNs);
    expect(dirTimes(path.join(copy, 'listed'))).toEqual({ atimeNs: BigInt(old.atime.getTime()) * 1_000_000n, mtimeNs: BigInt(old.mtime.getTime()) * 1_000_000n });
  });
});

describe('between two file systems', () => {
  const otherFs = '/dev/shm';
  const sameDevice = (a: string, b: string) => fs.statSync(a).dev === fs.statSync(b).dev;
  const unavailable = !fs.existsSync(otherFs) ? `${otherFs} does not exist` : sameDevice(otherFs, '/tmp') ? `${otherFs} is on the same file system as /tmp` : undefined;

  // copy_file_range refuses (EXDEV) between two file system types: the block loop copies the bytes instead.
  it.skipIf(unavailable !== undefined)(`copies every byte where the kernel will not copy between them${unavailable ? ` (skipped: ${unavailable})` : ''}`, async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    writeTree(source, { 'a.txt': 'a', 'sub/b.bin': Buffer.alloc(300 * 1024, 9).toString('latin1'), 'sub/empty': '' });
    const copy = fs.mkdtempSync(path.join(otherFs, 'foldercopy-test-'));
    try {
      const result = await runCli([source, path.join(copy, 'out')]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(diffTrees(await snapshotTree(source), await snapshotTree(path.join(copy, 'out')), { mtimePrecision: 'ns' })).toEqual([]);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });
});
