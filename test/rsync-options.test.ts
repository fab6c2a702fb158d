// rsync's --modify-window and -x/--one-file-system, end to end through the CLI on real trees: times a coarse
// file system rounded, and a real tmpfs mounted inside the source.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFolder, FoldercopyError } from '../dist/index.js';
import { isRoot, runCli } from './helpers/run-cli.js';
import { sourceAndCopy, useTempDirs, writeTree } from './helpers/tree.js';

const tempDir = useTempDirs();
const T0 = 1_600_000_000;

function counts(stdout: string): Record<string, number> {
  return (JSON.parse(stdout) as { counts: Record<string, number> }).counts;
}

describe('--modify-window', () => {
  /** A source file and a copy of the same size whose time is `apart` seconds later, its content told apart so a rewrite shows. */
  async function roundedCopy(apart: number): Promise<{ source: string; dest: string; copy: string }> {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, { 'photo.jpg': { type: 'file', content: 'source', mtime: T0 + 0.5 } });
    await writeTree(dest, { 'photo.jpg': { type: 'file', content: 'copy!!', mtime: T0 + 0.5 + apart } });
    return { source, dest, copy: path.join(dest, 'photo.jpg') };
  }

  it('keeps a copy whose time is within the window (the guard against overwriting another tree too), leaving its time as it is; beyond it, or without one, the copy is replaced', async () => {
    const within = await roundedCopy(1.25);
    const before = fs.statSync(within.copy, { bigint: true }).mtimeNs;
    const kept = await runCli(['--json', '--modify-window', '2', within.source, within.dest]);
    expect(kept.exitCode, kept.stderr).toBe(0);
    expect(counts(kept.stdout)).toMatchObject({ skipped: 1, overwritten: 0 });
    expect(fs.readFileSync(within.copy, 'utf8')).toBe('copy!!');
    expect(fs.statSync(within.copy, { bigint: true }).mtimeNs).toBe(before);

    const beyond = await roundedCopy(1.25);
    // A copy newer than its source does not look like an earlier copy of it: --overwrite says to replace it.
    const refused = await runCli(['--modify-window=1', beyond.source, beyond.dest]);
    expect(refused.exitCode).toBe(2);
    const replaced = await runCli(['--json', '--overwrite', '--modify-window=1', beyond.source, beyond.dest]);
    expect(replaced.exitCode, replaced.stderr).toBe(0);
    expect(counts(replaced.stdout)).toMatchObject({ skipped: 0, overwritten: 1 });
    expect(fs.readFileSync(beyond.copy, 'utf8')).toBe('source');

    const exact = await roundedCopy(0.25);
    const byDefault = await runCli(['--json', '--overwrite', exact.source, exact.dest]);
    expect(byDefault.exitCode, byDefault.stderr).toBe(0);
    expect(counts(byDefault.stdout)).toMatchObject({ overwritten: 1 });
  });

  it('-u keeps a copy older than the source by less than the window (the same time), and replaces one older beyond it', async () => {
    const { source, dest, copy } = await roundedCopy(-0.75);
    const kept = await runCli(['--json', '-u', '--modify-window', '1', source, dest]);
    expect(kept.exitCode, kept.stderr).toBe(0);
    expect(fs.readFileSync(copy, 'utf8')).toBe('copy!!');
    const replaced = await runCli(['--json', '-u', source, dest]);
    expect(replaced.exitCode, replaced.stderr).toBe(0);
    expect(fs.readFileSync(copy, 'utf8')).toBe('source');
  });

  it('refuses a negative or fractional window, on the command line and in the API', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, { a: 'a' });
    const negative = await runCli(['--modify-window', '-1', source, dest]);
    expect(negative.exitCode).toBe(2);
    expect(negative.stderr).toContain("'--modify-window <seconds>' argument '-1' is invalid");
    await expect(copyFolder(source, dest, { modifyWindow: 0.5 })).rejects.toThrow(FoldercopyError);
    await expect(copyFolder(source, dest, { modifyWindow: -1 })).rejects.toThrow(/modifyWindow option must be a whole number of seconds/);
    expect(fs.existsSync(dest)).toBe(false);
  });
});

describe('-x, --one-file-system', () => {
  /** Mounts a tmpfs at `dir`; why it cannot be, or undefined. */
  function mountTmpfs(dir: string): string | undefined {
    if (!isRoot()) return 'mounting needs root';
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0750', 'none', dir], { stdio: 'pipe' });
      return undefined;
    } catch (error) {
      return `mount -t tmpfs failed: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
    }
  }

  it('makes a mount point below the source, empty with its mode, and does not enter it; without -x it is copied', async (context) => {
    const { root, source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, { 'a.txt': 'a', 'sub/b.txt': 'b', 'zz-after.txt': 'after' });
    const mountPoint = path.join(source, 'sub', 'mnt');
    fs.mkdirSync(mountPoint);
    const refused = mountTmpfs(mountPoint);
    if (refused) context.skip(refused);
    try {
      await writeTree(mountPoint, { 'inside.txt': 'on another file system', 'deeper/x.txt': 'x' });
      const one = await runCli(['--json', '-x', source, dest]);
      expect(one.exitCode, one.stderr).toBe(0);
      expect(counts(one.stdout)).toMatchObject({ files: 3, directories: 3, failed: 0 });
      const made = fs.statSync(path.join(dest, 'sub', 'mnt'));
      expect(made.isDirectory()).toBe(true);
      expect(made.mode & 0o7777).toBe(0o750);
      expect(fs.readdirSync(path.join(dest, 'sub', 'mnt'))).toEqual([]);
      expect(fs.readFileSync(path.join(dest, 'zz-after.txt'), 'utf8')).toBe('after');

      // A re-run with --delete leaves the empty mount point alone, and the long option says the same.
      const again = await runCli(['--json', '--one-file-system', '--delete', source, dest]);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(counts(again.stdout)).toMatchObject({ files: 0, deleted: 0, skipped: 3 });

      const whole = path.join(root, 'whole');
      const all = await runCli(['--json', source, whole]);
      expect(all.exitCode, all.stderr).toBe(0);
      expect(fs.readFileSync(path.join(whole, 'sub', 'mnt', 'deeper', 'x.txt'), 'utf8')).toBe('x');
      // -x --delete does not compare what a copy holds below a mount point it did not enter: it stays (rsync -x leaves it too).
      fs.writeFileSync(path.join(whole, 'sub', 'mnt', 'only-in-the-copy.txt'), 'kept');
      fs.writeFileSync(path.join(whole, 'sub', 'extraneous.txt'), 'deleted');
      const mirrored = await runCli(['--json', '-x', '--delete', source, whole]);
      expect(mirrored.exitCode, mirrored.stderr).toBe(0);
      expect(counts(mirrored.stdout)).toMatchObject({ deleted: 1 });
      expect(fs.existsSync(path.join(whole, 'sub', 'extraneous.txt'))).toBe(false);
      expect(fs.readdirSync(path.join(whole, 'sub', 'mnt')).sort()).toEqual(['deeper', 'inside.txt', 'only-in-the-copy.txt']);
    } finally {
      execFileSync('umount', [mountPoint], { stdio: 'ignore' });
    }
  });
});
