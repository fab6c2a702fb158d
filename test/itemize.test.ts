// -i/--itemize-changes: rsync's lines (`>f.st...... path`), end to end through the CLI on real trees. Each case
// copies a tree, changes the source one way, and runs the copy again with -i. Where rsync is installed, it copies
// the same trees beside (`rsync -aiX`, with -A where it has ACLs) and its lines are the oracle; the lines expected
// are written out too, so the tests say what they check without it. Attributes are set with python3, as in
// xattrs.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFolder, type EntryEvent } from '../dist/index.js';
import { describeIfRoot, runCli } from './helpers/run-cli.js';
import { diffTrees, snapshotTree, sourceAndCopy, useTempDirs, writeTree } from './helpers/tree.js';

const tempDir = useTempDirs();
const T0 = 1_600_000_000;

const RSYNC = spawnSync('rsync', ['--version'], { encoding: 'utf8' }).status === 0;
// Without ACL support rsync refuses -A.
const RSYNC_FLAGS = RSYNC && spawnSync('rsync', ['-nA', '.', '/nonexistent-itemize-probe'], { encoding: 'utf8' }).stderr.includes('ACL') ? ['-aiX'] : ['-aiAX'];

const SET_XATTR = String.raw`
import os, struct, sys
if sys.argv[2] == 'acl':
    entries = [(1, 6, 0xFFFFFFFF), (2, 6, 1000), (4, 4, 0xFFFFFFFF), (0x10, 6, 0xFFFFFFFF), (0x20, 0, 0xFFFFFFFF)]
    os.setxattr(sys.argv[1], 'system.posix_acl_access', struct.pack('<I', 2) + b''.join(struct.pack('<HHI', *e) for e in entries))
else:
    os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode())
`;

function setXattr(file: string, name: string, value = ''): void {
  execFileSync('python3', ['-c', SET_XATTR, file, name, value]);
}

/** A copy's item lines, sorted (workers finish in any order). */
function lines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line !== '' && !line.startsWith('created directory ')).sort();
}

interface Trees {
  source: string;
  /** foldercopy's copy. */
  copy: string;
  /** rsync's copy, beside. */
  mirror: string;
}

/** A source tree copied once by foldercopy (and by rsync where it is installed). */
async function copiedTree(): Promise<Trees> {
  const { root, source, copy } = await sourceAndCopy(tempDir);
  await writeTree(source, {
    'a.txt': { type: 'file', content: 'alpha', mtime: T0, mode: 0o644 },
    'sub/b.txt': { type: 'file', content: 'bravo', mtime: T0, mode: 0o644 },
    'link': { type: 'symlink', target: 'a.txt' },
    'old/c.txt': { type: 'file', content: 'charlie', mtime: T0 },
    sub: { type: 'dir', mtime: T0 },
    old: { type: 'dir', mtime: T0 },
  });
  const trees = { source, copy, mirror: path.join(root, 'mirror') };
  const first = await runCli(['--no-progress', source, copy]);
  expect(first.exitCode, first.stderr).toBe(0);
  if (RSYNC) execFileSync('rsync', ['-aX', `${source}/`, `${trees.mirror}/`]);
  return trees;
}

/** foldercopy's lines for the copy again with `args`, checked against rsync's on the same change where it is installed. */
async function itemized({ source, copy, mirror }: Trees, args: string[] = ['-i']): Promise<string[]> {
  const result = await runCli(['--no-progress', ...args, source, copy]);
  expect(result.exitCode, result.stderr).toBe(0);
  const ours = lines(result.stdout);
  if (RSYNC) {
    const rsyncArgs = args.map((arg) => (arg === '-i' ? RSYNC_FLAGS : [arg])).flat();
    const theirs = lines(execFileSync('rsync', [...rsyncArgs, `${source}/`, `${mirror}/`], { encoding: 'utf8' }));
    expect(ours, 'rsync printed other lines').toEqual(theirs);
  }
  return ours;
}

describe('-i, --itemize-changes', () => {
  it("lists a first copy as rsync does: cd+++++++++ for each directory (./ the root), >f+++++++++ each file, cL+++++++++ a symlink with its target", async () => {
    const { root, source, copy } = await sourceAndCopy(tempDir);
    await writeTree(source, { 'a.txt': 'alpha', 'sub/b.txt': 'bravo', link: { type: 'symlink', target: 'a.txt' } });
    const result = await runCli(['--no-progress', '-i', source, copy]);
    expect(result.exitCode, result.stderr).toBe(0);
    const expected = ['>f+++++++++ a.txt', '>f+++++++++ sub/b.txt', 'cL+++++++++ link -> a.txt', 'cd+++++++++ ./', 'cd+++++++++ sub/'].sort();
    expect(lines(result.stdout)).toEqual(expected);
    if (RSYNC) expect(lines(execFileSync('rsync', [...RSYNC_FLAGS, `${source}/`, `${root}/mirror/`], { encoding: 'utf8' }))).toEqual(expected);
    // The summary stays on stderr.
    expect(result.stderr).toMatch(/copied 2 files/);
  });

  it('prints nothing for a re-run that changes nothing, and every entry with -ii', async () => {
    const trees = await copiedTree();
    expect(await itemized(trees)).toEqual([]);
    const all = await runCli(['--no-progress', '-ii', trees.source, trees.copy]);
    expect(lines(all.stdout)).toEqual(
      ['.d          ./', '.d          old/', '.d          sub/', '.f          a.txt', '.f          old/c.txt', '.f          sub/b.txt', '.L          link -> a.txt'].sort(),
    );
  });

  it('a file whose content and size changed: >f.st......', async () => {
    const trees = await copiedTree();
    fs.writeFileSync(path.join(trees.source, 'a.txt'), 'alpha, longer now');
    expect(await itemized(trees)).toEqual(['>f.st...... a.txt']);
    expect(fs.readFileSync(path.join(trees.copy, 'a.txt'), 'utf8')).toBe('alpha, longer now');
  });

  it('a file whose time alone changed: >f..t......; with --checksum, the same content is kept and only its time set: .f..t......, and other content under the same size and time is >fc........', async () => {
    const trees = await copiedTree();
    fs.utimesSync(path.join(trees.source, 'sub/b.txt'), T0 + 60, T0 + 60);
    expect(await itemized(trees, ['-i', '--checksum'])).toEqual(['.f..t...... sub/b.txt']);
    expect(fs.statSync(path.join(trees.copy, 'sub/b.txt')).mtimeMs).toBe((T0 + 60) * 1000);
    fs.utimesSync(path.join(trees.source, 'a.txt'), T0 + 60, T0 + 60);
    expect(await itemized(trees)).toEqual(['>f..t...... a.txt']);
    // Content that differs under the same size and time: only --checksum sees it, and says so with c.
    fs.writeFileSync(path.join(trees.source, 'a.txt'), 'ALPHA');
    fs.utimesSync(path.join(trees.source, 'a.txt'), T0 + 60, T0 + 60);
    expect(await itemized(trees)).toEqual([]);
    expect(await itemized(trees, ['-i', '--checksum'])).toEqual(['>fc........ a.txt']);
  });

  it('a file whose mode changed: .f...p....., and the copy gets it', async () => {
    const trees = await copiedTree();
    fs.chmodSync(path.join(trees.source, 'sub/b.txt'), 0o600);
    expect(await itemized(trees)).toEqual(['.f...p..... sub/b.txt']);
    expect(fs.statSync(path.join(trees.copy, 'sub/b.txt')).mode & 0o7777).toBe(0o600);
  });

  it('a file whose extended attribute changed: .f........x; an access ACL: .f.......a.', async () => {
    const trees = await copiedTree();
    setXattr(path.join(trees.source, 'sub/b.txt'), 'user.note', 'hello');
    expect(await itemized(trees)).toEqual(['.f........x sub/b.txt']);
    setXattr(path.join(trees.source, 'a.txt'), 'acl');
    expect(await itemized(trees)).toEqual(['.f.......a. a.txt']);
  });

  it('a new symlink: cL+++++++++ with its target; a symlink pointed elsewhere: cLc.t......; the directory that holds them: .d..t......', async () => {
    const trees = await copiedTree();
    fs.symlinkSync('sub', path.join(trees.source, 'to-sub'));
    fs.utimesSync(trees.source, T0, T0);
    await itemized(trees).then((found) => expect(found).toEqual(['.d..t...... ./', 'cL+++++++++ to-sub -> sub']));
    fs.unlinkSync(path.join(trees.source, 'link'));
    fs.symlinkSync('old', path.join(trees.source, 'link'));
    fs.lutimesSync(path.join(trees.source, 'link'), T0 + 5, T0 + 5);
    fs.utimesSync(trees.source, T0, T0);
    expect(await itemized(trees)).toEqual(['cLc.t...... link -> old']);
    expect(fs.readlinkSync(path.join(trees.copy, 'link'))).toBe('old');
  });

  it('a symlink kept (the same target) whose time changed: .L..t......, and the copy gets the time', async () => {
    const trees = await copiedTree();
    fs.lutimesSync(path.join(trees.source, 'link'), T0 + 7, T0 + 7);
    expect(await itemized(trees)).toEqual(['.L..t...... link -> a.txt']);
    expect(fs.lstatSync(path.join(trees.copy, 'link')).mtimeMs).toBe((T0 + 7) * 1000);
  });

  it('a new directory: cd+++++++++ with a trailing slash, its files >f+++++++++', async () => {
    const trees = await copiedTree();
    fs.mkdirSync(path.join(trees.source, 'sub/new'));
    fs.writeFileSync(path.join(trees.source, 'sub/new/d.txt'), 'delta');
    fs.utimesSync(path.join(trees.source, 'sub'), T0, T0);
    expect(await itemized(trees)).toEqual(['>f+++++++++ sub/new/d.txt', 'cd+++++++++ sub/new/']);
  });

  it('--delete: *deleting for each entry removed, a directory with its slash', async () => {
    const trees = await copiedTree();
    fs.rmSync(path.join(trees.source, 'old'), { recursive: true });
    fs.utimesSync(trees.source, T0, T0);
    expect(await itemized(trees, ['-i', '--delete'])).toEqual(['*deleting   old/', '*deleting   old/c.txt', '.d..t...... ./']);
    expect(fs.existsSync(path.join(trees.copy, 'old'))).toBe(false);
  });

  it('-n -i: the lines of the changes the copy would make, and nothing changed', async () => {
    const trees = await copiedTree();
    fs.writeFileSync(path.join(trees.source, 'a.txt'), 'alpha, longer now');
    fs.chmodSync(path.join(trees.source, 'sub/b.txt'), 0o600);
    fs.writeFileSync(path.join(trees.source, 'sub/new.txt'), 'new');
    fs.utimesSync(path.join(trees.source, 'sub'), T0 + 1, T0 + 1);
    const before = await snapshotTree(trees.copy);
    expect(await itemized(trees, ['-n', '-i'])).toEqual(['.d..t...... sub/', '.f...p..... sub/b.txt', '>f+++++++++ sub/new.txt', '>f.st...... a.txt'].sort());
    expect(diffTrees(before, await snapshotTree(trees.copy))).toEqual([]);
  });

  it('hard links: the second name as hf+++++++++ name => first name', async () => {
    const { source, copy } = await sourceAndCopy(tempDir);
    await writeTree(source, { 'a.txt': 'alpha', 'b.txt': { type: 'hardlink', target: 'a.txt' } });
    const result = await runCli(['--no-progress', '-i', source, copy]);
    const found = lines(result.stdout);
    expect(found).toHaveLength(3);
    expect(found).toContain('cd+++++++++ ./');
    expect(found.filter((line) => /^>f\+{9} [ab]\.txt$/.test(line))).toHaveLength(1);
    expect(found.filter((line) => /^hf\+{9} ([ab])\.txt => (?!\1)[ab]\.txt$/.test(line))).toHaveLength(1);
  });

  it('with --log -: the JSON lines carry changes and target, and the item lines go to stderr', async () => {
    const trees = await copiedTree();
    fs.writeFileSync(path.join(trees.source, 'a.txt'), 'alpha, longer now');
    const result = await runCli(['--no-progress', '-i', '--log', '-', trees.source, trees.copy]);
    expect(result.exitCode, result.stderr).toBe(0);
    const logged = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as EntryEvent);
    expect(logged).toContainEqual({ path: 'a.txt', action: 'overwrite', type: 'file', size: 17, changes: '>f.st......' });
    expect(logged).toContainEqual(expect.objectContaining({ path: 'link', changes: '.L         ', target: 'a.txt' }));
    expect(result.stderr).toContain('>f.st...... a.txt\n');
  });

  it('several sources: paths and a hard link first name as they are in the destination', async () => {
    const root = await tempDir();
    await writeTree(path.join(root, 'one'), { 'a.txt': 'alpha', 'b.txt': { type: 'hardlink', target: 'a.txt' } });
    await writeTree(path.join(root, 'two'), { 'c.txt': 'charlie' });
    const result = await runCli(['--no-progress', '-i', path.join(root, 'one'), path.join(root, 'two'), path.join(root, 'dest')]);
    expect(result.exitCode, result.stderr).toBe(0);
    const found = lines(result.stdout);
    expect(found).toContain('>f+++++++++ two/c.txt');
    expect(found).toContain('cd+++++++++ one/');
    expect(found.filter((line) => /^hf\+{9} one\/([ab])\.txt => one\/(?!\1)[ab]\.txt$/.test(line))).toHaveLength(1);
  });
});

describeIfRoot('-i with owners (as root)', () => {
  it('a file given to another owner: .f....o....; to another group: .f.....g...', async () => {
    const trees = await copiedTree();
    fs.chownSync(path.join(trees.source, 'sub/b.txt'), 1000, 0);
    expect(await itemized(trees)).toEqual(['.f....o.... sub/b.txt']);
    fs.chownSync(path.join(trees.source, 'sub/b.txt'), 1000, 100);
    expect(await itemized(trees)).toEqual(['.f.....g... sub/b.txt']);
    expect(fs.statSync(path.join(trees.copy, 'sub/b.txt'))).toMatchObject({ uid: 1000, gid: 100 });
  });
});

describe('the itemize option of the library', () => {
  it("gives each event rsync's item (changes) and a link's target; without it, events have neither", async () => {
    const trees = await copiedTree();
    fs.writeFileSync(path.join(trees.source, 'a.txt'), 'alpha, longer now');
    const events: EntryEvent[] = [];
    await copyFolder(trees.source, trees.copy, { itemize: true, onEntry: (event) => events.push(event) });
    expect(events).toContainEqual(expect.objectContaining({ path: 'a.txt', action: 'overwrite', changes: '>f.st......' }));
    expect(events).toContainEqual(expect.objectContaining({ path: 'link', action: 'skip', changes: '.L         ', target: 'a.txt' }));
    expect(events).toContainEqual(expect.objectContaining({ path: '.', type: 'directory', action: 'skip', changes: '.d         ' }));

    fs.writeFileSync(path.join(trees.source, 'a.txt'), 'alpha, once more');
    const plain: EntryEvent[] = [];
    await copyFolder(trees.source, trees.copy, { onEntry: (event) => plain.push(event) });
    expect(plain.length).toBeGreaterThan(0);
    expect(plain.filter((event) => event.changes !== undefined || event.target !== undefined)).toEqual([]);
    expect(plain.some((event) => event.type === 'directory')).toBe(false);
  });
});
