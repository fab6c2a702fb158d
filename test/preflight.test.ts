// Checked before anything is written: bad arguments and overlapping paths are refused with exit 2,
// one line on stderr, nothing created, and the source left exactly as it was.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeIfRoot, REPO_ROOT, runCli, type RunResult } from './helpers/run-cli.js';
import { diffTrees, snapshotTree, useTempDirs, writeTree, type TreeSnapshot } from './helpers/tree.js';

const tempDir = useTempDirs();
const NO_STACK_TRACE = /^\s+at /m;
const { version } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

/** A temp dir holding `src/` with a few entries; returns the dir, and the source snapshot to compare with later. */
async function withSource(): Promise<{ root: string; src: string; before: TreeSnapshot }> {
  const root = await tempDir();
  const src = path.join(root, 'src');
  await writeTree(src, [
    { path: 'a.txt', type: 'file', content: 'a\n', mtime: 1_600_000_000_123_456_789n },
    { path: 'sub/b.txt', type: 'file', content: 'b\n', mode: 0o600 },
    { path: 'sub/link', type: 'symlink', target: '../a.txt' },
    { path: 'sub', type: 'dir', mtime: 1_500_000_000_000_000_000n },
  ]);
  // Hashing sets atimes once (relatime); compare against the snapshot taken after that.
  await snapshotTree(src, { atime: true });
  return { root, src, before: await snapshotTree(src, { atime: true }) };
}

async function expectUnchanged(src: string, before: TreeSnapshot): Promise<void> {
  // mtimes of files and directories, modes, contents, links, atimes of files: to the nanosecond.
  expect(diffTrees(before, await snapshotTree(src, { atime: true }), { mtimePrecision: 'ns' })).toEqual([]);
}

/** Exit 2, nothing on stdout, exactly one line on stderr, and no stack trace. Returns that line. */
function expectRefused(result: RunResult): string {
  expect(result.exitCode, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(NO_STACK_TRACE);
  const lines = result.stderr.split('\n');
  expect(lines, result.stderr).toHaveLength(2);
  expect(lines[1]).toBe('');
  expect(lines[0]).toMatch(/^foldercopy: /);
  return lines[0]!;
}

describe('refused before anything is written (exit 2)', () => {
  it('a missing source: "source not found", no destination created', async () => {
    const root = await tempDir();
    const missing = path.join(root, 'nope');
    const dst = path.join(root, 'out', 'copy');

    const line = expectRefused(await runCli([missing, dst]));

    expect(line).toBe(`foldercopy: source not found: ${missing}`);
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('a missing source with no destination given: no <source>_copy created', async () => {
    const root = await tempDir();

    const line = expectRefused(await runCli(['nope'], { cwd: root }));

    expect(line).toBe('foldercopy: source not found: nope');
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('a directory onto an existing regular file: the file is untouched', async () => {
    const { root, src, before } = await withSource();
    const file = path.join(root, 'target.txt');
    await writeTree(root, [{ path: 'target.txt', type: 'file', content: 'precious\n', mtime: 1_400_000_000_500_000_000n }]);
    const fileBefore = fs.statSync(file, { bigint: true });

    const line = expectRefused(await runCli([src, file]));

    expect(line).toContain(file);
    expect(fs.readFileSync(file, 'utf8')).toBe('precious\n');
    const fileAfter = fs.statSync(file, { bigint: true });
    expect(fileAfter.mtimeNs).toBe(fileBefore.mtimeNs);
    expect(fileAfter.ino).toBe(fileBefore.ino);
    expect(fs.readdirSync(root).sort()).toEqual(['src', 'target.txt']);
    await expectUnchanged(src, before);
  });

  it('a destination inside the source (src src/backup): nothing created', async () => {
    const { root, src, before } = await withSource();

    const line = expectRefused(await runCli(['src', 'src/backup'], { cwd: root }));

    expect(line).toContain('src/backup');
    expect(fs.existsSync(path.join(src, 'backup'))).toBe(false);
    await expectUnchanged(src, before);
  });

  it('a destination inside the source through a symlink: nothing created', async () => {
    const { root, src, before } = await withSource();
    fs.symlinkSync(src, path.join(root, 'alias'));

    expectRefused(await runCli([src, path.join(root, 'alias', 'deeper', 'backup')]));

    expect(fs.existsSync(path.join(src, 'deeper'))).toBe(false);
    await expectUnchanged(src, before);
  });

  for (const [how, destination] of [
    ['directly', 'src'],
    ['with a trailing slash', 'src/'],
    ['via a symlink', 'link-to-src'],
    ['via ..', 'src/../src'],
    ['via ./', './src/./'],
  ] as const) {
    it(`the source and the destination are the same directory, ${how} (src ${destination}): source unchanged`, async () => {
      const { root, src, before } = await withSource();
      fs.symlinkSync('src', path.join(root, 'link-to-src'));

      const line = expectRefused(await runCli(['src', destination], { cwd: root }));

      expect(line).toMatch(/same/);
      expect(fs.readdirSync(root).sort()).toEqual(['link-to-src', 'src']);
      await expectUnchanged(src, before);
    });
  }

  it('a source inside the destination (outer/src outer): source unchanged', async () => {
    const root = await tempDir();
    const outer = path.join(root, 'outer');
    await writeTree(outer, { 'src/a.txt': 'a\n', 'other.txt': 'other\n' });
    await snapshotTree(outer, { atime: true });
    const before = await snapshotTree(outer, { atime: true });

    const line = expectRefused(await runCli([path.join(outer, 'src'), outer]));

    expect(line).toContain(path.join(outer, 'src'));
    expect(diffTrees(before, await snapshotTree(outer, { atime: true }), { mtimePrecision: 'ns' })).toEqual([]);
  });
});

describe('refused where the destination cannot be made (exit 2, one line, nothing written)', () => {
  it('a destination below a regular file (afile/sub): names the file, which is untouched', async () => {
    const { root, src, before } = await withSource();
    fs.writeFileSync(path.join(root, 'afile'), 'precious\n');

    for (const destination of ['afile/sub', 'afile/sub/deeper']) {
      const line = expectRefused(await runCli(['src', destination], { cwd: root }));
      expect(line).toBe(`foldercopy: the destination cannot be created, ${path.join(root, 'afile')} is not a directory: ${destination}`);
    }
    expect(fs.readFileSync(path.join(root, 'afile'), 'utf8')).toBe('precious\n');
    expect(fs.readdirSync(root).sort()).toEqual(['afile', 'src']);
    await expectUnchanged(src, before);
  });

  it('a destination through a symlink loop: the system reason, and --json says refused', async () => {
    const { root } = await withSource();
    fs.symlinkSync('loop', path.join(root, 'loop'));

    const result = await runCli(['src', 'loop/copy', '--json'], { cwd: root });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe('foldercopy: cannot use the destination: loop/copy: too many symbolic links encountered (ELOOP)\n');
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'refused', exitCode: 2, error: { code: 'DESTINATION_INVALID', path: 'loop/copy' } });
  });
});

describeIfRoot('refused as a user who cannot write there (exit 2, one line, nothing written)', () => {
  /** A root-owned directory nobody may enter but not write, holding a readable source. */
  async function lockedPlace(): Promise<{ root: string; locked: string }> {
    const { root } = await withSource();
    fs.chmodSync(root, 0o755);
    const locked = path.join(root, 'locked');
    fs.mkdirSync(locked, 0o755);
    return { root, locked };
  }

  it("a destination whose parent cannot be created: names the parent and EACCES, not a worker's death", async () => {
    const { root, locked } = await lockedPlace();

    const line = expectRefused(await runCli(['src', 'locked/deep/copy'], { cwd: root, asUser: 'nobody' }));

    expect(line).toBe('foldercopy: cannot create the destination directory: locked/deep: permission denied (EACCES)');
    expect(fs.readdirSync(locked)).toEqual([]);
  });

  it('a destination in a directory that cannot be written: one line, not one per entry; --json says refused', async () => {
    const { root, locked } = await lockedPlace();
    for (const destination of ['locked', 'locked/copy']) {
      const line = expectRefused(await runCli(['src', destination], { cwd: root, asUser: 'nobody' }));
      const json = await runCli(['src', destination, '--json'], { cwd: root, asUser: 'nobody' });

      expect(line).toBe('foldercopy: cannot write into the destination: locked: permission denied (EACCES)');
      expect(json.exitCode).toBe(2);
      expect(JSON.parse(json.stdout)).toMatchObject({ status: 'refused', error: { code: 'DESTINATION_UNWRITABLE', path: 'locked' } });
    }
    expect(fs.readdirSync(locked)).toEqual([]);
  });

  for (const [option, code, what] of [
    ['--log', 'LOG_UNWRITABLE', 'cannot write the log file'],
    ['--manifest', 'MANIFEST_UNWRITABLE', 'cannot write the manifest'],
  ] as const) {
    it(`${option} into a directory that cannot be written: one line, no stack trace, nothing copied; --json says refused`, async () => {
      const { root, locked } = await lockedPlace();
      const file = path.join(locked, 'out.txt');
      // The destination itself is writable by nobody: only the log or manifest is refused.
      const out = path.join(root, 'out');
      fs.mkdirSync(out);
      fs.chownSync(out, 65534, 65534);

      const line = expectRefused(await runCli(['src', 'out/copy', option, file], { cwd: root, asUser: 'nobody' }));
      const json = await runCli(['src', 'out/copy', option, file, '--json'], { cwd: root, asUser: 'nobody' });

      expect(line).toBe(`foldercopy: ${what}: ${file}: permission denied (EACCES)`);
      expect(json.exitCode).toBe(2);
      expect(JSON.parse(json.stdout)).toMatchObject({ status: 'refused', error: { code, path: file } });
      expect(fs.readdirSync(root).sort()).toEqual(['locked', 'out', 'src']);
      expect(fs.readdirSync(out)).toEqual([]);
      expect(fs.readdirSync(locked)).toEqual([]);
    });
  }
});

describe('the source is never modified', () => {
  it('by a successful copy: contents, modes, links, file and directory mtimes, file atimes', async () => {
    const { root, src, before } = await withSource();

    const result = await runCli([src, path.join(root, 'copy')]);

    expect(result.exitCode, result.stderr).toBe(0);
    await expectUnchanged(src, before);
    expect(diffTrees(before, await snapshotTree(path.join(root, 'copy'), { atime: true }))).toEqual([]);
  });

  it('by a re-run into an existing copy', async () => {
    const { root, src, before } = await withSource();
    const dst = path.join(root, 'copy');

    expect((await runCli([src, dst])).exitCode).toBe(0);
    expect((await runCli([src, dst])).exitCode).toBe(0);

    await expectUnchanged(src, before);
  });
});

describe('usage errors (exit 2, one line pointing to --help)', () => {
  for (const [what, args] of [
    ['no arguments', []],
    ['an unknown option', ['--frobnicate', 'src', 'dst']],
    ['-j 0', ['-j', '0', 'src', 'dst']],
    ['-j abc', ['-j', 'abc', 'src', 'dst']],
    ['-j 1.5', ['-j', '1.5', 'src', 'dst']],
  ] as const) {
    it(what, async () => {
      const root = await tempDir();
      await writeTree(root, { 'src/a.txt': 'a\n' });

      const line = expectRefused(await runCli(args, { cwd: root }));

      expect(line).toContain('--help');
      expect(fs.readdirSync(root)).toEqual(['src']);
    });
  }

  it('--help: exit 0, usage and the exit codes on stdout', async () => {
    const result = await runCli(['--help']);

    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('Usage:');
    expect(result.stdout).toContain('Exit codes:');
    for (const code of ['0', '1', '2', '130']) expect(result.stdout).toMatch(new RegExp(`^\\s+${code}\\b`, 'm'));
    expect(result.stdout).toContain('143');
  });

  it('--version: exit 0 and the package version', async () => {
    const result = await runCli(['--version']);

    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });
});
