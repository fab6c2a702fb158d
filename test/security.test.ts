// An attacker who can change the destination while a copy runs: a directory inside it is swapped
// for a symlink to a directory elsewhere. Nothing may be written, chmod'ed, chown'ed, timed,
// renamed or unlinked through such a link: the outside directory stays exactly as it was.
// The same attacker in the source (a home directory root backs up): nothing is read through such a link.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFolder } from '../dist/index.js';
import { describeIfRoot, startCli, startCommand } from './helpers/run-cli.js';
import { listFilesRecursive, snapshotTree, useTempDirs, writeTree, diffTrees } from './helpers/tree.js';

const tempDir = useTempDirs();

// Swaps every real directory d* in the destination ($1, a glob) for a symlink to the outside ($2),
// again and again, until the file $3 appears (or 20 s pass).
const SWAPPER = `
end=$(( $(date +%s) + 20 ))
while [ "$(date +%s)" -lt "$end" ]; do
  for top in $1; do
    for d in "$top"/d*; do
      [ -d "$d" ] && [ ! -L "$d" ] || continue
      mv "$d" "$d.moved.$$.$RANDOM" 2>/dev/null && ln -s "$2" "$d" 2>/dev/null
    done
  done
  [ -e "$3" ] && exit 0
done`;

describe('a destination directory swapped for a symlink during the run', () => {
  for (const [how, firstCopy] of [
    ['into an existing destination', false],
    ['a first copy', true],
  ] as const) {
    it(`${how}: nothing is written through the link, and the directory outside keeps its entries and times`, async () => {
      const root = await tempDir();
      const src = path.join(root, 'src');
      const dst = path.join(root, 'dst');
      const outside = path.join(root, 'outside');
      const spec: Record<string, string> = {};
      for (let d = 0; d < 40; d++) for (let f = 0; f < 300; f++) spec[`d${d}/f${f}.txt`] = `${d}/${f}\n`;
      await writeTree(src, spec);
      await writeTree(outside, { 'keep.txt': 'outside\n' });
      fs.utimesSync(outside, 1_000_000_000, 1_000_000_000);
      const outsideBefore = await snapshotTree(outside);
      if (!firstCopy) fs.mkdirSync(dst);
      const done = path.join(root, 'done');

      const swapper = startCommand(['sh', '-c', SWAPPER, 'sh', firstCopy ? `${path.dirname(dst)}/.dst.*.foldercopy-part` : dst, outside, done], {
        timeoutMs: 30_000,
      });
      const copy = startCli(['-j', '2', src, dst], { timeoutMs: 60_000 });
      const result = await copy.result;
      fs.writeFileSync(done, '');
      await swapper.result;

      // The outside is untouched: no entry, no mode, no time changed; and the run met the swaps and said so.
      expect(fs.readdirSync(outside)).toEqual(['keep.txt']);
      expect(diffTrees(outsideBefore, await snapshotTree(outside), { mtimePrecision: 'ns' })).toEqual([]);
      expect(fs.statSync(outside).mtimeMs).toBe(1_000_000_000_000);
      expect(result.stderr).toMatch(/\((ELOOP|ENOTDIR|ENOENT)\)$/m);
      expect(result.exitCode).toBe(1);
    });
  }
});

// Once the walk has listed the source directory $1 (the run has made its copy $4), swaps it for a
// symlink to the outside ($2) and back, again and again, until the file $3 appears (or 20 s pass).
// Node rather than sh: renames microseconds apart leave the name missing hardly ever, so a worker
// meets the directory or the link, in turns of 1 and 5 ms.
const SOURCE_SWAPPER = `
const fs = require('node:fs');
const [sub, outside, done, listed] = process.argv.slice(1);
const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const end = Date.now() + 20_000;
while (Date.now() < end && !fs.existsSync(listed) && !fs.existsSync(done)) pause(1);
while (Date.now() < end && !fs.existsSync(done)) {
  fs.renameSync(sub, sub + '.real');
  fs.symlinkSync(outside, sub);
  pause(1);
  fs.unlinkSync(sub);
  fs.renameSync(sub + '.real', sub);
  pause(5);
}`;

const SECRET = 'secret bytes from outside the source\n';

/** Relative paths of the files under `root` that hold SECRET. */
async function filesWithSecret(root: string): Promise<string[]> {
  const files = (await listFilesRecursive(root)).map(String);
  return files.filter((file) => fs.readFileSync(path.join(root, file)).includes(SECRET));
}

describeIfRoot('a source directory swapped for a symlink during the run (a backup run as root)', () => {
  it('nothing outside the source is read into the copy, the directory outside is untouched, and the run does not crash', async () => {
    const root = await tempDir();
    const src = path.join(root, 'src');
    const dst = path.join(root, 'dst');
    const outside = path.join(root, 'outside');
    // The outside holds the names the source directory has: what a worker opens through the link, it finds.
    await writeTree(src, { 'top.txt': 'top\n' });
    fs.mkdirSync(path.join(src, 'sub'));
    fs.mkdirSync(outside);
    for (let f = 0; f < 1000; f++) {
      fs.writeFileSync(path.join(src, 'sub', `f${f}.txt`), `inside ${f}\n`);
      fs.writeFileSync(path.join(outside, `f${f}.txt`), SECRET);
    }
    const outsideBefore = await snapshotTree(outside);
    // Into an existing destination: directories are made in place, where the swapper looks for sub's.
    fs.mkdirSync(dst);
    const done = path.join(root, 'done');

    const swapper = startCommand([process.execPath, '-e', SOURCE_SWAPPER, path.join(src, 'sub'), outside, done, path.join(dst, 'sub')], {
      timeoutMs: 30_000,
    });
    const result = await startCli(['-j', '2', src, dst], { timeoutMs: 30_000 }).result;
    fs.writeFileSync(done, '');
    const swapped = await swapper.result;

    expect(swapped.exitCode, swapped.stderr).toBe(0);
    expect(await filesWithSecret(dst)).toEqual([]);
    expect(diffTrees(outsideBefore, await snapshotTree(outside), { mtimePrecision: 'ns' })).toEqual([]);
    expect(result.signal).toBeNull();
    expect([0, 1]).toContain(result.exitCode);
  });
});

describe('a source directory swapped for a symlink while the walk is below it', () => {
  it('the walk goes on in the directory it opened, and nothing is listed or read through the link', async () => {
    const root = await tempDir();
    const src = path.join(root, 'src');
    const dst = path.join(root, 'dst');
    const outside = path.join(root, 'outside');
    await writeTree(src, { 'a/top.txt': 'top\n', 'a/b/inner.txt': 'inner\n' });
    await writeTree(outside, { 'b/inner.txt': SECRET, 'b/planted.txt': SECRET });
    const outsideBefore = await snapshotTree(outside);

    // a's listing is planned (and its directory made) before a/b is read.
    const summary = await copyFolder(src, dst, {
      onEntry: (event) => {
        if (event.path !== 'a' || event.type !== 'directory') return;
        fs.renameSync(path.join(src, 'a'), path.join(src, 'a.moved'));
        fs.symlinkSync(outside, path.join(src, 'a'));
      },
    });

    expect(await filesWithSecret(dst)).toEqual([]);
    expect(diffTrees(outsideBefore, await snapshotTree(outside), { mtimePrecision: 'ns' })).toEqual([]);
    // a/b is listed from the directory a was (planted.txt is not there); its files are not read through the link.
    const link = expect.stringMatching(/^(ELOOP|ENOTDIR)$/);
    // The directories' attributes, read at the end, are not read through it either.
    expect(summary.failures.map(({ path, code }) => [path, code]).sort()).toEqual([
      [path.join(src, 'a'), link],
      [path.join(src, 'a/b'), link],
      [path.join(src, 'a/b/inner.txt'), link],
      [path.join(src, 'a/top.txt'), link],
    ]);
  });
});

describe('a source directory swapped for a symlink before its attributes are read, at the end of the run', () => {
  it('the copies of the directories below it do not get the attributes of what the link leads to', async () => {
    const root = await tempDir();
    const src = path.join(root, 'src');
    const dst = path.join(root, 'dst');
    const outside = path.join(root, 'outside');
    await writeTree(src, { 'a/b/top.txt': 'top\n' });
    fs.mkdirSync(path.join(outside, 'b'), { recursive: true });
    const python = `import os, sys\nos.setxattr(sys.argv[1], 'user.where', b'inside')\nos.setxattr(sys.argv[2], 'user.where', b'outside')`;
    execFileSync('python3', ['-c', python, path.join(src, 'a/b'), path.join(outside, 'b')]);

    // a/b is made and its file copied; its attributes are given when the run ends, after a is swapped.
    const summary = await copyFolder(src, dst, {
      onEntry: (event) => {
        if (event.path !== 'a/b/top.txt') return;
        fs.renameSync(path.join(src, 'a'), path.join(src, 'a.moved'));
        fs.symlinkSync(outside, path.join(src, 'a'));
      },
    });

    const list = 'import os, sys; print(os.getxattr(sys.argv[1], "user.where") if "user.where" in os.listxattr(sys.argv[1]) else "none")';
    expect(execFileSync('python3', ['-c', list, path.join(dst, 'a/b')], { encoding: 'utf8' }).trim()).not.toContain('outside');
    expect(fs.readFileSync(path.join(dst, 'a/b/top.txt'), 'utf8')).toBe('top\n');
    // Reported, naming the source directory that could no longer be reached.
    const link = expect.stringMatching(/^(ELOOP|ENOTDIR)$/);
    expect(summary.failures.map(({ path, code }) => [path, code]).sort()).toEqual([
      [path.join(src, 'a'), link],
      [path.join(src, 'a/b'), link],
    ]);
  });
});
