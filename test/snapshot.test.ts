// --link-dest and --snapshot, end to end through the CLI on real trees: what is shared is checked by inode.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockContent } from './helpers/processes.js';
import { isRoot, runCli, startCli, waitFor, type RunResult } from './helpers/run-cli.js';
import { findTempLeftovers, sourceAndCopy, useTempDirs, writeBigTree, writeTree } from './helpers/tree.js';

const tempDir = useTempDirs();

/** A fixed, old mtime (seconds), as the copies keep it. */
const T0 = 1_600_000_000;
const JOBS = ['-j', '2', '--no-progress'];
const SNAPSHOT_NAME = /^\d{4}-\d{2}-\d{2}T\d{6}Z(-\d+)?$/;

function cli(args: readonly string[], opts: Parameters<typeof runCli>[1] = {}): Promise<RunResult> {
  return runCli([...JOBS, ...args], opts);
}

function inode(file: string): number {
  return fs.lstatSync(file).ino;
}

function nlink(file: string): number {
  return fs.lstatSync(file).nlink;
}

/** The snapshots in `backups`, oldest first (their names sort so). */
function snapshots(backups: string): string[] {
  return fs
    .readdirSync(backups)
    .filter((name) => SNAPSHOT_NAME.test(name))
    .sort();
}

async function sourceTree(source: string): Promise<void> {
  await writeTree(source, {
    'a.txt': { type: 'file', content: 'alpha', mtime: T0 },
    'sub/b.txt': { type: 'file', content: 'bravo', mtime: T0 },
    'c.txt': { type: 'file', content: 'charlie', mtime: T0 },
    'd.txt': { type: 'file', content: 'delta', mtime: T0, mode: 0o644 },
    'e.txt': { type: 'file', content: 'echo', mtime: T0 },
    link: { type: 'symlink', target: 'a.txt' },
  });
}

function json(result: RunResult): { counts: Record<string, number>; snapshot?: { path: string; complete: boolean; linkedAgainst: string | null; removed: string[] } } {
  return JSON.parse(result.stdout) as ReturnType<typeof json>;
}

describe('--link-dest', () => {
  it('hard-links unchanged files from the link-dest tree, copies changed ones, and makes directories and symlinks', async () => {
    const { root, source } = await sourceAndCopy(tempDir);
    await sourceTree(source);
    const previous = path.join(root, 'previous');
    const next = path.join(root, 'next');
    expect((await cli([source, previous])).exitCode).toBe(0);
    fs.writeFileSync(path.join(source, 'c.txt'), 'charlie, changed');
    // Relative to the destination, as rsync takes it.
    const result = await cli(['--json', '--link-dest', '../previous', source, next]);
    expect(result.stderr).toMatch(/^foldercopy: copied 1 file, 2 directories, 1 symlink, 16 B in .*; 4 linked, 0 skipped, 0 failed\n$/);
    expect(result.exitCode).toBe(0);
    for (const name of ['a.txt', 'sub/b.txt', 'd.txt', 'e.txt']) {
      expect(inode(path.join(next, name)), name).toBe(inode(path.join(previous, name)));
      expect(nlink(path.join(next, name)), name).toBe(2);
    }
    expect(inode(path.join(next, 'c.txt'))).not.toBe(inode(path.join(previous, 'c.txt')));
    expect(fs.readFileSync(path.join(next, 'c.txt'), 'utf8')).toBe('charlie, changed');
    expect(fs.readFileSync(path.join(previous, 'c.txt'), 'utf8')).toBe('charlie');
    expect(fs.readlinkSync(path.join(next, 'link'))).toBe('a.txt');
    expect(inode(path.join(next, 'link'))).not.toBe(inode(path.join(previous, 'link')));
    expect(inode(path.join(next, 'sub'))).not.toBe(inode(path.join(previous, 'sub')));
    const { counts } = json(result);
    expect(counts).toMatchObject({ linked: 4, files: 1, symlinks: 1, created: 8, failed: 0 });
    expect(await findTempLeftovers(next)).toEqual([]);
  });

  it('copies a file whose mode, mtime or owner differs in the link-dest tree, and links the rest', async () => {
    const { root, source } = await sourceAndCopy(tempDir);
    await sourceTree(source);
    const previous = path.join(root, 'previous');
    const next = path.join(root, 'next');
    expect((await cli([source, previous])).exitCode).toBe(0);
    fs.chmodSync(path.join(previous, 'a.txt'), 0o600);
    fs.utimesSync(path.join(previous, 'c.txt'), T0, T0 + 1);
    // The same size and mtime, other bytes: rsync's quick check takes it for unchanged too.
    fs.writeFileSync(path.join(previous, 'e.txt'), 'ECHO');
    fs.utimesSync(path.join(previous, 'e.txt'), T0, T0);
    if (isRoot()) fs.chownSync(path.join(previous, 'd.txt'), 65534, 65534);
    const result = await cli(['-v', '--link-dest', previous, source, next]);
    expect(result.exitCode).toBe(0);
    for (const name of ['a.txt', 'c.txt']) expect(inode(path.join(next, name)), name).not.toBe(inode(path.join(previous, name)));
    expect((fs.statSync(path.join(next, 'a.txt')).mode & 0o777).toString(8)).toBe((fs.statSync(path.join(source, 'a.txt')).mode & 0o777).toString(8));
    expect(fs.statSync(path.join(next, 'c.txt')).mtimeMs).toBe(T0 * 1000);
    if (isRoot()) {
      expect(inode(path.join(next, 'd.txt'))).not.toBe(inode(path.join(previous, 'd.txt')));
      expect(fs.statSync(path.join(next, 'd.txt')).uid).toBe(fs.statSync(path.join(source, 'd.txt')).uid);
    }
    expect(inode(path.join(next, 'sub/b.txt'))).toBe(inode(path.join(previous, 'sub/b.txt')));
    expect(inode(path.join(next, 'e.txt'))).toBe(inode(path.join(previous, 'e.txt')));
    // The entry lines say which were linked and which copied.
    const entryLines = result.stdout.split('\n');
    expect(entryLines).toContain('link sub/b.txt');
    expect(entryLines).toContain('create a.txt');
    expect(result.stderr).toMatch(/; 2 linked, 0 skipped, 0 failed\n$/);
  });

  it('links against the first tree that holds the file unchanged, and warns of one that does not exist', async () => {
    const { root, source } = await sourceAndCopy(tempDir);
    await sourceTree(source);
    const older = path.join(root, 'older');
    const newer = path.join(root, 'newer');
    const next = path.join(root, 'next');
    expect((await cli([source, older])).exitCode).toBe(0);
    expect((await cli([source, newer])).exitCode).toBe(0);
    fs.chmodSync(path.join(newer, 'a.txt'), 0o600);
    const result = await cli(['--link-dest', '../missing', '--link-dest', '../newer', '--link-dest', '../older', source, next]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('foldercopy: note: a --link-dest directory does not exist; copying without it: ../missing');
    expect(inode(path.join(next, 'a.txt'))).toBe(inode(path.join(older, 'a.txt')));
    expect(inode(path.join(next, 'sub/b.txt'))).toBe(inode(path.join(newer, 'sub/b.txt')));
  });

  it('links into an existing destination only what is not there, and keeps hard-linked names of the source together', async () => {
    const { root, source } = await sourceAndCopy(tempDir);
    await sourceTree(source);
    const previous = path.join(root, 'previous');
    const next = path.join(root, 'next');
    await writeTree(source, { 'pair/one.txt': { type: 'file', content: 'shared', mtime: T0 }, 'pair/two.txt': { type: 'hardlink', target: 'pair/one.txt' } });
    expect((await cli([source, previous])).exitCode).toBe(0);
    expect((await cli([source, next])).exitCode).toBe(0);
    // next is an earlier copy: what is there is judged by the quick check (kept), what is missing is linked.
    fs.rmSync(path.join(next, 'a.txt'));
    fs.rmSync(path.join(next, 'pair'), { recursive: true });
    const kept = inode(path.join(next, 'c.txt'));
    const result = await cli(['--json', '--link-dest', previous, source, next]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(inode(path.join(next, 'a.txt'))).toBe(inode(path.join(previous, 'a.txt')));
    expect(inode(path.join(next, 'c.txt'))).toBe(kept);
    // The source's two names of one inode: one linked from previous, the other a second name of the same inode.
    const shared = inode(path.join(previous, 'pair/one.txt'));
    expect(inode(path.join(next, 'pair/one.txt'))).toBe(shared);
    expect(inode(path.join(next, 'pair/two.txt'))).toBe(shared);
    expect(nlink(path.join(next, 'pair/one.txt'))).toBe(4);
    expect(json(result).counts).toMatchObject({ linked: 2, hardLinks: 1, files: 0 });
  });

  it('copies a file whose link-dest twin is on another file system, or differs in its extended attributes', async () => {
    const { root, source } = await sourceAndCopy(tempDir);
    await sourceTree(source);
    const next = path.join(root, 'next');
    const elsewhere = fs.mkdtempSync('/dev/shm/foldercopy-test-');
    try {
      const previous = path.join(elsewhere, 'previous');
      expect((await cli([source, previous])).exitCode).toBe(0);
      expect(fs.statSync(previous).dev).not.toBe(fs.statSync(root).dev);
      const result = await cli(['--json', '--link-dest', previous, source, next]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(nlink(path.join(next, 'a.txt'))).toBe(1);
      expect(fs.readFileSync(path.join(next, 'a.txt'), 'utf8')).toBe('alpha');
      expect(json(result).counts).toMatchObject({ linked: 0, files: 5 });
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
    const again = path.join(root, 'again');
    execFileSync('python3', ['-c', 'import os, sys; os.setxattr(sys.argv[1], "user.note", b"new")', path.join(source, 'a.txt')]);
    const result = await cli(['--link-dest', next, source, again]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(inode(path.join(again, 'a.txt'))).not.toBe(inode(path.join(next, 'a.txt')));
    expect(inode(path.join(again, 'e.txt'))).toBe(inode(path.join(next, 'e.txt')));
    // Without attributes copied, they are not compared either.
    const plain = await cli(['--no-xattrs', '--link-dest', next, source, path.join(root, 'plain')]);
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(inode(path.join(root, 'plain', 'a.txt'))).toBe(inode(path.join(next, 'a.txt')));
  });

  it('changes nothing in a dry run, and says what would be linked', async () => {
    const { root, source } = await sourceAndCopy(tempDir);
    await sourceTree(source);
    const previous = path.join(root, 'previous');
    expect((await cli([source, previous])).exitCode).toBe(0);
    const result = await cli(['-n', '--link-dest', previous, source, path.join(root, 'next')]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n')).toContain('link a.txt');
    expect(fs.existsSync(path.join(root, 'next'))).toBe(false);
    expect(nlink(path.join(previous, 'a.txt'))).toBe(1);
  });

  it('refuses more than 20 directories', async () => {
    const { source, copy } = await sourceAndCopy(tempDir);
    await sourceTree(source);
    const result = await cli([...Array.from({ length: 21 }, (_, n) => ['--link-dest', `../d${n}`]).flat(), source, copy]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe('foldercopy: --link-dest takes at most 20 directories, got 21\n');
    expect(fs.existsSync(copy)).toBe(false);
  });
});

describe('--snapshot', () => {
  it('makes dated snapshots that share the inodes of unchanged files, and points latest at the newest', async () => {
    const { root, source } = await sourceAndCopy(tempDir);
    await sourceTree(source);
    const backups = path.join(root, 'backups');
    const first = await cli(['--json', '--snapshot', source, backups]);
    expect(first.exitCode).toBe(0);
    const [one] = snapshots(backups);
    expect(json(first).snapshot).toEqual({ path: path.join(backups, one!), complete: true, linkedAgainst: null, removed: [] });
    fs.writeFileSync(path.join(source, 'c.txt'), 'charlie, changed');
    const second = await cli(['--snapshot', source, backups]);
    expect(second.exitCode).toBe(0);
    const names = snapshots(backups);
    expect(names).toHaveLength(2);
    const [older, newer] = names.map((name) => path.join(backups, name));
    expect(second.stderr).toContain(`foldercopy: snapshot ${newer} (linked against ${older}); latest points at it`);
    expect(fs.readlinkSync(path.join(backups, 'latest'))).toBe(names[1]);
    for (const name of ['a.txt', 'sub/b.txt', 'd.txt', 'e.txt']) expect(inode(path.join(newer!, name)), name).toBe(inode(path.join(older!, name)));
    expect(inode(path.join(newer!, 'c.txt'))).not.toBe(inode(path.join(older!, 'c.txt')));
    expect(fs.readFileSync(path.join(backups, 'latest', 'c.txt'), 'utf8')).toBe('charlie, changed');
    expect(fs.readFileSync(path.join(older!, 'c.txt'), 'utf8')).toBe('charlie');
    // Nothing else: no work directory, no lock, no temporary latest.
    expect(fs.readdirSync(backups).sort()).toEqual([...names, 'latest']);
    expect(fs.readdirSync(root).sort()).toEqual(['backups', 'source']);
  });

  it('--keep 2 leaves the two newest snapshots after three runs, -q saying nothing of them', async () => {
    const { root, source } = await sourceAndCopy(tempDir);
    await sourceTree(source);
    const backups = path.join(root, 'backups');
    const made: string[] = [];
    for (let run = 0; run < 3; run++) {
      fs.writeFileSync(path.join(source, 'c.txt'), `run ${run}`);
      // As from cron: -q says nothing of a snapshot made and old ones removed, only of what went wrong.
      const result = await cli(['-q', '--json', '--snapshot', '--keep', '2', source, backups]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stderr).toBe('');
      made.push(json(result).snapshot!.path);
      if (run === 2) expect(json(result).snapshot!.removed).toEqual([made[0]]);
    }
    expect(snapshots(backups).map((name) => path.join(backups, name))).toEqual(made.slice(1));
    expect(fs.readlinkSync(path.join(backups, 'latest'))).toBe(path.basename(made[2]!));
    // The file unchanged through all three runs is one inode in the two left.
    expect(nlink(path.join(made[2]!, 'a.txt'))).toBe(2);
    expect(fs.readFileSync(path.join(made[2]!, 'c.txt'), 'utf8')).toBe('run 2');
  });

  it('publishes nothing when an entry fails: latest and the earlier snapshots stay as they were', async () => {
    const { root, source } = await sourceAndCopy(tempDir);
    await sourceTree(source);
    const backups = path.join(root, 'backups');
    // As root, the runs are nobody's, who cannot read a file of mode 000.
    const asUser = isRoot() ? ('nobody' as const) : undefined;
    if (asUser) {
      fs.chmodSync(root, 0o755);
      execFileSync('chown', ['-R', '65534:65534', source]);
      fs.mkdirSync(backups);
      fs.chownSync(backups, 65534, 65534);
    }
    expect((await cli(['--snapshot', '--keep', '1', source, backups], { asUser })).exitCode).toBe(0);
    const [first] = snapshots(backups);
    fs.writeFileSync(path.join(source, 'secret.txt'), 'x');
    if (asUser) fs.chownSync(path.join(source, 'secret.txt'), 65534, 65534);
    fs.chmodSync(path.join(source, 'secret.txt'), 0o000);
    const failed = await cli(['--snapshot', '--keep', '1', source, backups], { asUser });
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toMatch(/foldercopy: cannot read: .*secret\.txt: permission denied \(EACCES\)/);
    expect(failed.stderr).toMatch(/foldercopy: snapshot not published, as it is incomplete: its copy is in .*\/\.\d{4}-\d\d-\d\dT\d{6}Z(-\d+)?\.foldercopy-snapshot; the earlier snapshots and latest are as they were/);
    expect(snapshots(backups)).toEqual([first]);
    expect(fs.readlinkSync(path.join(backups, 'latest'))).toBe(first);
    // Readable again: the next run is complete, and --keep 1 removes the first (never the incomplete copy).
    fs.chmodSync(path.join(source, 'secret.txt'), 0o644);
    const fixed = await cli(['--snapshot', '--keep', '1', source, backups], { asUser });
    expect(fixed.exitCode).toBe(0);
    const [now] = snapshots(backups);
    expect(now).not.toBe(first);
    expect(snapshots(backups)).toHaveLength(1);
    expect(fs.readlinkSync(path.join(backups, 'latest'))).toBe(now);
    expect(fs.readdirSync(backups).filter((name) => name.endsWith('.foldercopy-snapshot'))).toHaveLength(1);
  });

  it('interrupted by Ctrl-C: exit 130, nothing published, latest and the earlier snapshot as they were', async () => {
    const { root, source } = await sourceAndCopy(tempDir);
    await sourceTree(source);
    const backups = path.join(root, 'backups');
    expect((await cli(['--snapshot', source, backups])).exitCode).toBe(0);
    const [first] = snapshots(backups);
    // Enough new files to be interrupted halfway.
    writeBigTree(path.join(source, 'big'));
    const started = startCli([...JOBS, '--snapshot', '--keep', '1', source, backups], { timeoutMs: 120_000 });
    try {
      await waitFor(() => fs.readdirSync(backups).some((name) => name.endsWith('.foldercopy-part')), { timeoutMs: 60_000, description: 'the snapshot being staged' });
      started.signalGroup('SIGINT');
      const result = await started.result;
      expect(result.exitCode, result.stderr).toBe(130);
      expect(result.stderr).toMatch(/foldercopy: snapshot not published, as it is incomplete: its copy is in .*\.foldercopy-snapshot;/);
      expect(result.stderr).not.toMatch(/run the same command again to finish it/);
    } finally {
      started.signalGroup('SIGKILL');
    }
    expect(snapshots(backups)).toEqual([first]);
    expect(fs.readlinkSync(path.join(backups, 'latest'))).toBe(first);
    expect(fs.existsSync(path.join(backups, first!, 'big'))).toBe(false);
  }, 150_000);

  it('changes nothing in a dry run', async () => {
    const { root, source } = await sourceAndCopy(tempDir);
    await sourceTree(source);
    const backups = path.join(root, 'backups');
    expect((await cli(['--snapshot', source, backups])).exitCode).toBe(0);
    const before = fs.readdirSync(backups).sort();
    const result = await cli(['-n', '--snapshot', '--keep', '1', source, backups]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/foldercopy: would make snapshot .* \(linked against .*\)\n/);
    expect(result.stderr).toContain('5 to link');
    expect(fs.readdirSync(backups).sort()).toEqual(before);
  });

  it.each([
    [['--keep', '0', '--snapshot'], 'foldercopy: --keep must be a whole number from 1 (the snapshot just made is always kept), got 0'],
    [['--keep', '2'], 'foldercopy: --keep needs --snapshot'],
    [['--snapshot', '--delete'], 'foldercopy: --snapshot makes a new directory each run: --delete would have nothing to delete'],
  ])('refuses %j', async (flags, line) => {
    const { root, source } = await sourceAndCopy(tempDir);
    await sourceTree(source);
    const result = await cli([...flags, source, path.join(root, 'backups')]);
    expect(result.stderr).toBe(`${line}\n`);
    expect(result.exitCode).toBe(2);
    expect(fs.existsSync(path.join(root, 'backups'))).toBe(false);
  });

  it('is refused while another run holds the directory of snapshots, which stays as it was', async () => {
    const { root, source } = await sourceAndCopy(tempDir);
    await sourceTree(source);
    const backups = path.join(root, 'backups');
    expect((await cli(['--snapshot', source, backups])).exitCode).toBe(0);
    expect((await cli(['--snapshot', source, backups])).exitCode).toBe(0);
    const before = fs.readdirSync(backups).sort();
    const latest = fs.readlinkSync(path.join(backups, 'latest'));
    // This test's own process stands for the other run: alive, and not the CLI.
    fs.writeFileSync(path.join(root, '.backups.foldercopy-lock'), lockContent(process.pid));
    const result = await cli(['--snapshot', '--keep', '1', source, backups]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^foldercopy: another foldercopy run \\(pid ${process.pid}, user [^)]+\\) is copying into ${backups}; wait for it to finish or stop it\n$`));
    expect(fs.readdirSync(backups).sort()).toEqual(before);
    expect(fs.readlinkSync(path.join(backups, 'latest'))).toBe(latest);
    expect(fs.existsSync(path.join(root, '.backups.foldercopy-lock'))).toBe(true);
  });

  it('refuses to replace a latest that is not a symlink', async () => {
    const { root, source } = await sourceAndCopy(tempDir);
    await sourceTree(source);
    const backups = path.join(root, 'backups');
    fs.mkdirSync(path.join(backups, 'latest'), { recursive: true });
    const result = await cli(['--snapshot', source, backups]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(`foldercopy: ${path.join(backups, 'latest')} is not a symlink: --snapshot points it at the newest snapshot; move it away first\n`);
    expect(fs.readdirSync(backups)).toEqual(['latest']);
    expect(fs.readdirSync(root).sort()).toEqual(['backups', 'source']);
  });
});
