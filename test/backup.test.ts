// Backups and CI: filters, incremental re-runs, dry runs, --json, --log, --verify, --manifest, --delete,
// and the output switches, end to end through the CLI (and the API where it is the natural place).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFolder, FoldercopyError, type CopySummary, type EntryEvent } from '../dist/index.js';
import { isRoot, runCli, runCliInPty, runCommand, type RunResult } from './helpers/run-cli.js';
import { diffTrees, findTempLeftovers, snapshotTree, sourceAndCopy, useTempDirs, writeTree, type TreeEntry } from './helpers/tree.js';

const tempDir = useTempDirs();

/** A fixed, old mtime (seconds): files written by the tests are older than anything a run writes. */
const T0 = 1_600_000_000;
const JOBS = ['-j', '2'];

function cli(args: readonly string[], opts: Parameters<typeof runCli>[1] = {}): Promise<RunResult> {
  return runCli([...JOBS, ...args], opts);
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

/** stderr without the final summary line(s) that start with "foldercopy: ". */
function entryLines(stderr: string): string[] {
  return lines(stderr)
    .filter((line) => !line.startsWith('foldercopy: '))
    .sort();
}

interface JsonCounts {
  files: number;
  directories: number;
  symlinks: number;
  hardLinks: number;
  created: number;
  linked: number;
  overwritten: number;
  skipped: number;
  deleted: number;
  specialFiles: number;
  failed: number;
}

interface JsonSummary {
  schemaVersion: number;
  status: string;
  exitCode: number;
  dryRun: boolean;
  source: string;
  destination: string;
  durationMs: number;
  bytes: number;
  counts: JsonCounts;
  failures: Array<{ path: string; code: string; operation: string; message: string }>;
  specialFiles: Array<{ path: string; reason: string }>;
  stoppedBy: unknown;
  deletionSkipped: string | null;
}

/** stdout must be exactly one JSON document and nothing else. */
function parseJson(result: RunResult): JsonSummary {
  expect(result.stdout.endsWith('}\n'), result.stdout).toBe(true);
  return JSON.parse(result.stdout) as JsonSummary;
}

function counts(partial: Partial<JsonCounts>): JsonCounts {
  return { files: 0, directories: 0, symlinks: 0, hardLinks: 0, created: 0, linked: 0, overwritten: 0, skipped: 0, deleted: 0, specialFiles: 0, failed: 0, ...partial };
}

/** Every entry under root (root excluded), directories with a trailing '/', sorted. */
function listTree(root: string): string[] {
  const found: string[] = [];
  const visit = (rel: string): void => {
    for (const dirent of fs.readdirSync(rel === '' ? root : path.join(root, rel), { withFileTypes: true })) {
      const child = rel === '' ? dirent.name : `${rel}/${dirent.name}`;
      if (dirent.isDirectory()) {
        found.push(`${child}/`);
        visit(child);
      } else found.push(child);
    }
  };
  visit('');
  return found.sort();
}

/** lstat of every entry (root included): inode, mode, links, size, mtime and ctime, so any change shows. */
function statTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (rel: string): void => {
    const full = rel === '' ? root : path.join(root, rel);
    const s = fs.lstatSync(full, { bigint: true });
    out.set(rel === '' ? '.' : rel, `ino=${s.ino} mode=${s.mode.toString(8)} nlink=${s.nlink} size=${s.size} mtime=${s.mtimeNs} ctime=${s.ctimeNs} uid=${s.uid}`);
    if (s.isDirectory()) for (const name of fs.readdirSync(full).sort()) visit(rel === '' ? name : `${rel}/${name}`);
  };
  visit('');
  return out;
}

/** Inode numbers of every non-directory under root, by relative path. */
function inodes(root: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const rel of listTree(root)) {
    if (!rel.endsWith('/')) out.set(rel, fs.lstatSync(path.join(root, rel), { bigint: true }).ino);
  }
  return out;
}

/** Paths whose inode is new or different from `before`, sorted. */
function rewritten(before: Map<string, bigint>, after: Map<string, bigint>): string[] {
  return [...after].filter(([rel, ino]) => before.get(rel) !== ino).map(([rel]) => rel).sort();
}

function file(content: string | Buffer, mtime: number = T0): { type: 'file'; content: string | Buffer; mtime: number } {
  return { type: 'file', content, mtime };
}

function read(root: string, rel: string): string {
  return fs.readFileSync(path.join(root, rel), 'utf8');
}

function setMtime(target: string, seconds: number): void {
  fs.utimesSync(target, seconds, seconds);
}

// ---------------------------------------------------------------------------
// The nightly backup
// ---------------------------------------------------------------------------

/** 30 files (one a dotfile, one in a dot-named spot), a symlink, 7 directories below the root. */
function nightlyTree(): TreeEntry[] {
  const entries: TreeEntry[] = [];
  const add = (rel: string, content: string): void => {
    entries.push({ path: rel, ...file(content) });
  };
  add('README.md', '# backed up every night\n');
  add('.env', 'SECRET=1\n');
  add('notes.txt', 'notes\n');
  for (let i = 0; i < 6; i++) add(`docs/d${i}.txt`, `doc ${i}\n`.repeat(i + 1));
  for (let i = 0; i < 8; i++) add(`src/lib/m${i}.ts`, `export const m${i} = ${i};\n`);
  add('src/index.ts', "export * from './lib/m0.js';\n");
  for (let i = 0; i < 6; i++) add(`src/app/x${i}.js`, `console.log(${i});\n`.repeat(10));
  for (let i = 0; i < 4; i++) add(`data/y${i}.csv`, `a,b\n${i},${i * 2}\n`);
  add('config/.settings.json', '{"nightly": true}\n');
  add('tmp/cache.bin', 'cache'.repeat(200));
  entries.push({ path: 'latest', type: 'symlink', target: 'docs/d0.txt' });
  return entries;
}

const NIGHTLY_FILES = 30;
const NIGHTLY_DIRS = 7;

const CHANGED = ['docs/d1.txt', 'src/lib/m0.ts'];
const ADDED_FILES = ['docs/d6.txt', 'notes2.txt', 'reports/q1.txt'];
const DELETED = ['data/y3.csv', 'docs/d5.txt', 'tmp', 'tmp/cache.bin'];

/** The day's changes: 2 files changed, 3 added (one in a new directory), 2 files and a directory with a file deleted. */
async function changeNightlySource(source: string): Promise<number> {
  // A new content of a new size.
  const m0 = path.join(source, 'src/lib/m0.ts');
  fs.writeFileSync(m0, 'export const m0 = "a longer value than before";\n');
  setMtime(m0, T0 + 50);
  // The same size, different bytes and a new mtime.
  const d1 = path.join(source, 'docs/d1.txt');
  const old = fs.readFileSync(d1, 'utf8');
  const changed = old.replace(/doc/g, 'DOC');
  expect(changed.length).toBe(old.length);
  fs.writeFileSync(d1, changed);
  setMtime(d1, T0 + 100);
  await writeTree(source, {
    'docs/d6.txt': file('doc 6, new today\n', T0 + 200),
    'notes2.txt': file('more notes\n', T0 + 200),
    'reports/q1.txt': file('Q1 report\n'.repeat(3), T0 + 200),
  });
  fs.rmSync(path.join(source, 'docs/d5.txt'));
  fs.rmSync(path.join(source, 'data/y3.csv'));
  fs.rmSync(path.join(source, 'tmp'), { recursive: true });
  return [...CHANGED, ...ADDED_FILES].reduce((sum, rel) => sum + fs.statSync(path.join(source, rel)).size, 0);
}

describe('the nightly backup', () => {
  it('re-run with --delete --json: the destination equals the source, only changed and added files are rewritten, exact counts', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    const dest = path.join(root, 'backup');
    await writeTree(source, nightlyTree());

    const first = await cli(['--json', source, dest]);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(parseJson(first).counts).toEqual(
      counts({ files: NIGHTLY_FILES, directories: NIGHTLY_DIRS + 1, symlinks: 1, created: NIGHTLY_FILES + 1 + NIGHTLY_DIRS + 1 }),
    );
    const before = inodes(dest);
    expect(before.size).toBe(NIGHTLY_FILES + 1);

    const bytes = await changeNightlySource(source);
    const second = await cli(['--delete', '--json', source, dest]);

    expect(second.exitCode, second.stderr).toBe(0);
    const doc = parseJson(second);
    expect(doc).toMatchObject({ schemaVersion: 1, status: 'ok', exitCode: 0, dryRun: false, source, destination: dest, bytes });
    expect(doc.counts).toEqual(
      counts({ files: 5, directories: 1, created: 4, overwritten: 2, skipped: NIGHTLY_FILES - 3 - 2 + 1, deleted: 4 }),
    );
    expect(doc.failures).toEqual([]);
    expect(doc.deletionSkipped).toBeNull();
    expect(doc.stoppedBy).toBeNull();
    expect(second.stderr).toMatch(/^foldercopy: copied 5 files, 1 directory, 0 symlinks, .*; 26 skipped, 4 deleted, 0 failed$/m);
    expect(diffTrees(await snapshotTree(source), await snapshotTree(dest))).toEqual([]);
    const after = inodes(dest);
    expect(rewritten(before, after)).toEqual([...CHANGED, ...ADDED_FILES].sort());
    expect([...before.keys()].filter((rel) => !after.has(rel)).sort()).toEqual(DELETED.filter((rel) => rel !== 'tmp'));
    expect(fs.existsSync(path.join(dest, 'tmp'))).toBe(false);
    expect(await findTempLeftovers(dest)).toEqual([]);

    const third = await cli(['--delete', '--json', source, dest]);
    expect(third.exitCode, third.stderr).toBe(0);
    expect(parseJson(third).counts).toEqual(counts({ skipped: NIGHTLY_FILES + 1 }));
    expect(rewritten(after, inodes(dest))).toEqual([]);
    expect(diffTrees(await snapshotTree(source), await snapshotTree(dest))).toEqual([]);
  });

  it('the same through copyFolder(src, dest, { delete: true }): summary counts and entry events', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    const dest = path.join(root, 'backup');
    await writeTree(source, nightlyTree());
    await copyFolder(source, dest, { jobs: 2 });
    const bytes = await changeNightlySource(source);
    const events: EntryEvent[] = [];

    const summary = await copyFolder(source, dest, { jobs: 2, delete: true, onEntry: (event) => events.push(event) });

    expect(summary).toMatchObject<Partial<CopySummary>>({
      files: 5,
      directories: 1,
      symlinks: 0,
      hardLinks: 0,
      bytes,
      created: 4,
      overwritten: 2,
      skipped: 26,
      deleted: 4,
      failures: [],
      specialFiles: [],
      aborted: false,
      dryRun: false,
      stoppedBy: undefined,
      deletionSkipped: undefined,
    });
    const byAction = (action: EntryEvent['action']): string[] =>
      events.filter((event) => event.action === action).map((event) => `${event.path}:${event.type}`).sort();
    expect(byAction('overwrite')).toEqual(['docs/d1.txt:file', 'src/lib/m0.ts:file']);
    expect(byAction('create')).toEqual(['docs/d6.txt:file', 'notes2.txt:file', 'reports/q1.txt:file', 'reports:directory']);
    expect(byAction('delete')).toEqual(['data/y3.csv:file', 'docs/d5.txt:file', 'tmp/cache.bin:file', 'tmp:directory']);
    expect(byAction('skip')).toHaveLength(26);
    expect(byAction('fail')).toEqual([]);
    expect(diffTrees(await snapshotTree(source), await snapshotTree(dest))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------

describe('filters', () => {
  it('--exclude (repeatable): an excluded directory is not copied at any depth, nor are excluded files', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    await writeTree(source, {
      'keep.txt': 'k',
      'build.log': 'log',
      'sub/keep.js': 'js',
      'sub/err.log': 'log',
      'node_modules/pkg/index.js': 'dep',
      'sub/node_modules/x.js': 'dep',
    });

    const result = await cli(['--exclude', 'node_modules', '--exclude', '*.log', '--json', source, path.join(root, 'copy')]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(listTree(path.join(root, 'copy'))).toEqual(['keep.txt', 'sub/', 'sub/keep.js']);
    expect(parseJson(result).counts).toEqual(counts({ files: 2, directories: 2, created: 4 }));
  });

  it("--include '*.txt' copies only .txt files (and what a second --include names), making only directories that receive something", async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    await writeTree(source, {
      'a.txt': 'a',
      'b.md': 'b',
      'docs/c.txt': 'c',
      'docs/d.md': 'd',
      'img/e.png': 'e',
      'img/raw/f.png': 'f',
      'nested/deep/f.txt': 'f',
      'nested/g.md': 'g',
      'empty/nothing.md': 'n',
    });
    const dest = path.join(root, 'copy');

    const result = await cli(['--include', '*.txt', '--json', source, dest]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(listTree(dest)).toEqual(['a.txt', 'docs/', 'docs/c.txt', 'nested/', 'nested/deep/', 'nested/deep/f.txt']);
    expect(parseJson(result).counts).toEqual(counts({ files: 3, directories: 4, created: 7 }));

    const two = await cli(['--include', '*.txt', '--include', 'img/raw/*', source, path.join(root, 'copy2')]);
    expect(two.exitCode, two.stderr).toBe(0);
    expect(listTree(path.join(root, 'copy2'))).toEqual([
      'a.txt',
      'docs/',
      'docs/c.txt',
      'img/',
      'img/raw/',
      'img/raw/f.png',
      'nested/',
      'nested/deep/',
      'nested/deep/f.txt',
    ]);
  });

  // --delete compares every directory the walk went through, not only those this run made: with --include a
  // directory is made only when it receives a file, and stale included files in the others must go too.
  it('--include with --delete deletes an included file the source no longer has, also in a directory that receives nothing this run', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, { 'a.txt': 'a', 'docs/c.txt': 'c', 'docs/d.md': 'd', 'img/e.png': 'e' });
    expect((await cli(['--include', '*.txt', source, dest])).exitCode).toBe(0);
    expect(listTree(dest)).toEqual(['a.txt', 'docs/', 'docs/c.txt']);
    fs.rmSync(path.join(source, 'docs/c.txt'));
    // Not in the source and matching the include: must go. Not matching it (excluded): must stay.
    await writeTree(dest, { 'img/old.txt': 'stale', 'docs/notes.md': 'excluded, kept' });

    const result = await cli(['--include', '*.txt', '--delete', '--json', source, dest]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(listTree(dest)).toEqual(['a.txt', 'docs/', 'docs/notes.md', 'img/']);
    expect(parseJson(result).counts).toEqual(counts({ skipped: 1, deleted: 2 }));
  });

  it('--gitignore honours a nested .gitignore and its negation', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    await writeTree(source, {
      '.gitignore': '*.log\nbuild/\n',
      'main.c': 'int main;',
      'a.log': 'ignored',
      'private.txt': 'only sub/ ignores private.txt',
      'build/out.o': 'ignored dir',
      'sub/.gitignore': '!keep.log\nprivate.txt\n',
      'sub/code.c': 'code',
      'sub/keep.log': 're-included',
      'sub/other.log': 'ignored',
      'sub/private.txt': 'ignored below sub',
      'sub/build/x.o': 'ignored dir at depth',
      'sub/deeper/keep.log': 're-included at depth',
      'sub/deeper/y.log': 'ignored',
    });
    const dest = path.join(root, 'copy');

    const result = await cli(['--gitignore', source, dest]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(listTree(dest)).toEqual([
      '.gitignore',
      'main.c',
      'private.txt',
      'sub/',
      'sub/.gitignore',
      'sub/code.c',
      'sub/deeper/',
      'sub/deeper/keep.log',
      'sub/keep.log',
    ]);
  });
});

// ---------------------------------------------------------------------------
// Incremental re-runs
// ---------------------------------------------------------------------------

describe('incremental re-runs', () => {
  it('by default keeps a file with the same size and mtime even if its bytes differ; --checksum rewrites it', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, { 'a.txt': file('original\n'), 'b.txt': file('bbb\n') });
    expect((await cli([source, dest])).exitCode).toBe(0);
    // Same size, same mtime, other bytes: only a content comparison can tell.
    fs.writeFileSync(path.join(dest, 'a.txt'), 'ORIGINAL\n');
    setMtime(path.join(dest, 'a.txt'), T0);
    const before = inodes(dest);

    const quick = await cli(['--json', source, dest]);
    expect(quick.exitCode, quick.stderr).toBe(0);
    expect(parseJson(quick).counts).toEqual(counts({ skipped: 2 }));
    expect(quick.stderr).toMatch(/^foldercopy: copied 0 files, 0 directories, 0 symlinks, .*; 2 skipped, 0 failed$/m);
    expect(read(dest, 'a.txt')).toBe('ORIGINAL\n');

    // -vv: skipped entries too; with --json they are listed on stderr, as stdout is the document's.
    const checksum = await cli(['--checksum', '-vv', '--json', source, dest]);
    expect(checksum.exitCode, checksum.stderr).toBe(0);
    expect(parseJson(checksum).counts).toEqual(counts({ files: 1, overwritten: 1, skipped: 1 }));
    expect(entryLines(checksum.stderr)).toEqual(['overwrite a.txt', 'skip b.txt (same content)']);
    expect(read(dest, 'a.txt')).toBe('original\n');
    expect(rewritten(before, inodes(dest))).toEqual(['a.txt']);
    expect(diffTrees(await snapshotTree(source), await snapshotTree(dest))).toEqual([]);
  });

  it.skipIf(!isRoot())(
    `--verify and --checksum read files back without changing access times: copy and source keep the same${isRoot() ? '' : ' [skipped: only root may read any source without updating its access time]'}`,
    async () => {
      const { source, copy: dest } = await sourceAndCopy(tempDir);
      await writeTree(source, { 'a.txt': file('same\n') });
      // Older than the mtime: a plain read updates it, even under relatime.
      const atime = new Date('2001-02-03T04:05:06Z');
      fs.utimesSync(path.join(source, 'a.txt'), atime, fs.statSync(path.join(source, 'a.txt')).mtime);
      const atimes = (): Date[] => [fs.statSync(path.join(source, 'a.txt')).atime, fs.statSync(path.join(dest, 'a.txt')).atime];

      const verified = await cli(['--verify', source, dest]);
      expect(verified.exitCode, verified.stderr).toBe(0);
      expect(atimes()).toEqual([atime, atime]);

      const checksum = await cli(['--checksum', source, dest]);
      expect(checksum.exitCode, checksum.stderr).toBe(0);
      expect(checksum.stderr).toMatch(/; 1 skipped, 0 failed$/m);
      expect(atimes()).toEqual([atime, atime]);
    },
  );

  it('--ignore-existing never overwrites, even an older destination file; missing files are still created', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, { 'a.txt': file('new content\n', T0 + 100), 'b.txt': file('b\n') });
    await writeTree(dest, { 'a.txt': file('old\n', T0) });

    const result = await cli(['--ignore-existing', '--json', source, dest]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(parseJson(result).counts).toEqual(counts({ files: 1, created: 1, skipped: 1 }));
    expect(read(dest, 'a.txt')).toBe('old\n');
    expect(read(dest, 'b.txt')).toBe('b\n');
  });

  it('a kept symlink gets the owner and times its source has since, as rsync -a gives them; --ignore-existing leaves it alone', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    fs.mkdirSync(source);
    fs.symlinkSync('target-text', path.join(source, 'link'));
    expect((await cli([source, dest])).exitCode).toBe(0);
    const copied = path.join(dest, 'link');
    const inode = fs.lstatSync(copied).ino;
    // Changed at the source after the copy, its target text the same.
    fs.lutimesSync(path.join(source, 'link'), T0, T0 + 5);
    if (isRoot()) fs.lchownSync(path.join(source, 'link'), 4321, 4322);

    fs.lutimesSync(copied, T0 + 9, T0 + 9);
    const ignored = await cli(['--ignore-existing', source, dest]);
    expect(ignored.exitCode, ignored.stderr).toBe(0);
    expect(fs.lstatSync(copied).mtimeMs).toBe((T0 + 9) * 1000);

    const result = await cli(['--json', source, dest]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(parseJson(result).counts).toEqual(counts({ skipped: 1 }));
    const after = fs.lstatSync(copied);
    expect(after.ino).toBe(inode);
    expect(fs.readlinkSync(copied)).toBe('target-text');
    expect(after.mtimeMs).toBe((T0 + 5) * 1000);
    if (isRoot()) expect([after.uid, after.gid]).toEqual([4321, 4322]);
  });

  it('--update keeps a destination file that is newer than the source and replaces an older one', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, { 'newer-at-dest.txt': file('source\n', T0), 'older-at-dest.txt': file('source\n', T0 + 100) });
    await writeTree(dest, { 'newer-at-dest.txt': file('edited at the destination\n', T0 + 500), 'older-at-dest.txt': file('old\n', T0) });

    const result = await cli(['--update', '--json', source, dest]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(parseJson(result).counts).toEqual(counts({ files: 1, overwritten: 1, skipped: 1 }));
    expect(read(dest, 'newer-at-dest.txt')).toBe('edited at the destination\n');
    expect(read(dest, 'older-at-dest.txt')).toBe('source\n');
    expect(fs.statSync(path.join(dest, 'older-at-dest.txt')).mtimeMs).toBe((T0 + 100) * 1000);
  });

  it('--force rewrites every file and symlink of an up-to-date copy (every inode changes)', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, [
      { path: 'a.txt', ...file('a\n') },
      { path: 'sub/b.txt', ...file('b\n') },
      { path: 'sub/c.txt', ...file('c\n') },
      { path: 'link', type: 'symlink', target: 'a.txt' },
    ]);
    expect((await cli([source, dest])).exitCode).toBe(0);
    const before = inodes(dest);

    const result = await cli(['--force', '--json', source, dest]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(parseJson(result).counts).toEqual(counts({ files: 3, symlinks: 1, overwritten: 4 }));
    expect(rewritten(before, inodes(dest))).toEqual(['a.txt', 'link', 'sub/b.txt', 'sub/c.txt']);
    expect(diffTrees(await snapshotTree(source), await snapshotTree(dest))).toEqual([]);
  });

  it('a temporary file left by an interrupted run is never taken for the file, and is swept', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, { 'a.txt': file('alpha\n'), 'sub/b.txt': file('beta\n') });
    expect((await cli([source, dest])).exitCode).toBe(0);
    // Killed before the rename: b.txt's complete copy (same size and mtime) sits under its temporary name only,
    // and a half-written a.txt beside the finished one.
    fs.rmSync(path.join(dest, 'sub/b.txt'));
    await writeTree(dest, {
      'sub/.b.txt.424242.foldercopy-part': file('beta\n'),
      '.a.txt.424243.foldercopy-part': file('al'),
    });

    const result = await cli(['--delete', '--json', source, dest]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(parseJson(result).counts).toEqual(counts({ files: 1, created: 1, skipped: 1 }));
    expect(await findTempLeftovers(dest)).toEqual([]);
    expect(listTree(dest)).toEqual(['a.txt', 'sub/', 'sub/b.txt']);
    expect(diffTrees(await snapshotTree(source), await snapshotTree(dest))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Dry runs
// ---------------------------------------------------------------------------

describe('--dry-run', () => {
  it('lists what would be created, overwritten, skipped and deleted, and changes nothing (with --delete)', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, { 'a.txt': file('same\n'), 'b.txt': file('bbb\n'), 'sub/d.txt': file('same\n'), 'olddir/x.txt': file('x\n'), 'extra.txt': file('e\n') });
    expect((await cli([source, dest])).exitCode).toBe(0);
    fs.writeFileSync(path.join(source, 'b.txt'), 'changed\n');
    await writeTree(source, { 'c.txt': file('new\n'), 'newdir/e.txt': file('new too\n') });
    fs.rmSync(path.join(source, 'extra.txt'));
    fs.rmSync(path.join(source, 'olddir'), { recursive: true });
    const stats = statTree(dest);
    const snapshot = await snapshotTree(dest);
    expect(statTree(dest)).toEqual(stats);

    // -vv: the skipped entries too. The listing goes to stdout, as `rsync -n`'s does; stderr has the summary alone.
    const result = await cli(['-n', '-vv', '--delete', source, dest]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(entryLines(result.stdout)).toEqual([
      'create c.txt',
      'create newdir',
      'create newdir/e.txt',
      'delete extra.txt',
      'delete olddir',
      'delete olddir/x.txt',
      'overwrite b.txt',
      'skip a.txt (same size and mtime)',
      'skip sub/d.txt (same size and mtime)',
    ]);
    expect(result.stderr).toMatch(
      /^foldercopy: dry run, nothing changed: would copy 3 files, 1 directory, 0 symlinks, .*; 2 skipped, 3 to delete, 0 failed$/m,
    );
    expect(statTree(dest)).toEqual(stats);
    expect(diffTrees(snapshot, await snapshotTree(dest))).toEqual([]);

    const json = await cli(['--dry-run', '--delete', '--json', source, dest]);
    expect(json.exitCode, json.stderr).toBe(0);
    const doc = parseJson(json);
    expect(doc).toMatchObject({ status: 'ok', exitCode: 0, dryRun: true });
    expect(doc.counts).toEqual(counts({ files: 3, directories: 1, created: 3, overwritten: 1, skipped: 2, deleted: 3 }));
    expect(statTree(dest)).toEqual(stats);
  });

  it('into a destination that does not exist creates nothing, not even its parents', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    await writeTree(source, { 'a.txt': 'a', 'sub/b.txt': 'b' });
    const rootStats = statTree(root);

    const result = await cli(['--dry-run', '--delete', source, path.join(root, 'out/deeper/copy')]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(entryLines(result.stdout)).toEqual(['create .', 'create a.txt', 'create sub', 'create sub/b.txt']);
    expect(result.stderr).toMatch(/^foldercopy: dry run, nothing changed: would copy 2 files, 2 directories, 0 symlinks, .*; 0 skipped, 0 failed$/m);
    expect(fs.existsSync(path.join(root, 'out'))).toBe(false);
    expect(statTree(root)).toEqual(rootStats);
  });

  it('lists a file’s other names as created, not failed, where the copy would make their directories', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    await writeTree(source, { 'a/first.txt': 'shared', 'old/keep.txt': 'k' });
    fs.mkdirSync(path.join(source, 'b'));
    fs.linkSync(path.join(source, 'a/first.txt'), path.join(source, 'b/second.txt'));
    fs.linkSync(path.join(source, 'a/first.txt'), path.join(source, 'old/third.txt'));
    const dest = path.join(root, 'dest');
    // `old` exists at the destination (its names may be there), `a` and `b` do not.
    await writeTree(dest, { 'old/keep.txt': 'k' });
    // The same size and mtime on both sides: kept.
    for (const side of [source, dest]) fs.utimesSync(path.join(side, 'old/keep.txt'), T0, T0);
    const before = statTree(root);

    const result = await cli(['-n', source, dest]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/ENOENT|cannot/);
    expect(result.stderr).toMatch(/ 0 failed$/m);
    expect(entryLines(result.stdout).sort()).toEqual(
      ['create a', 'create a/first.txt', 'create b', 'create b/second.txt', 'create old/third.txt'].sort(),
    );
    expect(statTree(root)).toEqual(before);
  });
});

// ---------------------------------------------------------------------------
// --json, --log, --verify, --manifest
// ---------------------------------------------------------------------------

describe('reports', () => {
  it('--json prints one document with the documented schema on stdout, and nothing else there', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, [
      { path: 'a.txt', ...file('abc') },
      { path: 'pipe', type: 'fifo' },
    ]);

    const result = await cli(['--json', source, dest]);

    expect(result.exitCode, result.stderr).toBe(0);
    const doc = parseJson(result);
    expect(Object.keys(doc)).toEqual([
      'schemaVersion',
      'status',
      'exitCode',
      'dryRun',
      'source',
      'destination',
      'durationMs',
      'bytes',
      'backedUp',
      'counts',
      'failures',
      'specialFiles',
      'stoppedBy',
      'deletionSkipped',
      'metadataNotKept',
      'verified',
      'warnings',
    ]);
    expect(doc).toMatchObject({
      schemaVersion: 1,
      status: 'ok',
      exitCode: 0,
      dryRun: false,
      source,
      destination: dest,
      bytes: 3,
      failures: [],
      specialFiles: [{ path: path.join(source, 'pipe'), reason: 'FIFO' }],
      stoppedBy: null,
      deletionSkipped: null,
    });
    expect(Number.isInteger(doc.durationMs) && doc.durationMs >= 0).toBe(true);
    expect(doc.counts).toEqual(counts({ files: 1, directories: 1, created: 2, specialFiles: 1 }));
    expect(result.stderr).toContain(`foldercopy: skipped FIFO (never opened): ${path.join(source, 'pipe')}`);
  });

  it('--log writes one JSON line per entry: created, skipped (special files too), overwritten, deleted', async () => {
    const { root, source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, [
      { path: 'a.txt', ...file('abc') },
      { path: 'sub/b.txt', ...file('hello') },
      { path: 'link', type: 'symlink', target: 'a.txt' },
      { path: 'pipe', type: 'fifo' },
    ]);
    const readLog = (log: string): EntryEvent[] => {
      const text = fs.readFileSync(log, 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      return lines(text)
        .map((line) => JSON.parse(line) as EntryEvent)
        .sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
    };

    const first = await cli(['--log', path.join(root, 'first.jsonl'), source, dest]);

    expect(first.exitCode, first.stderr).toBe(0);
    expect(readLog(path.join(root, 'first.jsonl'))).toEqual([
      { path: '.', action: 'create', type: 'directory' },
      { path: 'a.txt', action: 'create', type: 'file', size: 3 },
      { path: 'link', action: 'create', type: 'symlink' },
      { path: 'pipe', action: 'skip', type: 'special', reason: 'FIFO, never opened' },
      { path: 'sub', action: 'create', type: 'directory' },
      { path: 'sub/b.txt', action: 'create', type: 'file', size: 5 },
    ]);

    fs.writeFileSync(path.join(source, 'a.txt'), 'abcd');
    fs.writeFileSync(path.join(dest, 'extra.txt'), 'not in the source');
    const second = await cli(['--delete', '--log', path.join(root, 'second.jsonl'), source, dest]);

    expect(second.exitCode, second.stderr).toBe(0);
    expect(readLog(path.join(root, 'second.jsonl'))).toEqual([
      { path: 'a.txt', action: 'overwrite', type: 'file', size: 4 },
      { path: 'extra.txt', action: 'delete', type: 'file' },
      { path: 'link', action: 'skip', type: 'symlink', reason: expect.any(String) },
      { path: 'pipe', action: 'skip', type: 'special', reason: 'FIFO, never opened' },
      { path: 'sub/b.txt', action: 'skip', type: 'file', reason: 'same size and mtime' },
    ]);
  });

  it('a log or manifest inside the source or the destination is a usage error (exit 2, one line, nothing touched)', async () => {
    const { root, source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, { 'a.txt': 'a' });
    await writeTree(dest, { 'old.txt': 'old' });
    const stats = statTree(root);

    const cases: Array<[string[], string]> = [
      [['--log', path.join(dest, 'run.log')], `foldercopy: the log file must be outside the destination: ${path.join(dest, 'run.log')}\n`],
      [['--log', path.join(source, 'run.log')], `foldercopy: the log file must be outside the source: ${path.join(source, 'run.log')}\n`],
      [['--manifest', path.join(dest, 'SHA256SUMS')], `foldercopy: the manifest file must be outside the destination: ${path.join(dest, 'SHA256SUMS')}\n`],
    ];
    for (const [args, stderr] of cases) {
      const result = await cli([...args, source, dest]);
      expect(result.exitCode, result.stderr).toBe(2);
      expect(result.stderr).toBe(stderr);
    }
    expect(statTree(root)).toEqual(stats);
  });

  // The check compares real paths, not path.resolve()d names: a symlink to the source or the destination must not
  // get past it, or the log is written into the source and copied, and the manifest lands in the destination,
  // where --delete removes its temporary file.
  it('a log or manifest reached through a symlink to the source or the destination is refused too', async () => {
    const { root, source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, { 'a.txt': 'a' });
    await writeTree(dest, { 'old.txt': 'old' });
    fs.symlinkSync(source, path.join(root, 'source-link'));
    fs.symlinkSync(dest, path.join(root, 'copy-link'));
    const sourceStats = statTree(source);
    const destStats = statTree(dest);

    const log = await cli(['--log', path.join(root, 'source-link', 'run.log'), source, dest]);
    expect(log.exitCode, log.stderr).toBe(2);
    expect(log.stderr).toMatch(/^foldercopy: the log file must be outside the source: .*\n$/);

    const manifest = await cli(['--delete', '--manifest', path.join(root, 'copy-link', 'SHA256SUMS'), source, dest]);
    expect(manifest.exitCode, manifest.stderr).toBe(2);
    expect(manifest.stderr).toMatch(/^foldercopy: the manifest file must be outside the destination: .*\n$/);

    expect(statTree(source)).toEqual(sourceStats);
    expect(statTree(dest)).toEqual(destStats);
  });

  it('--verify: a verified copy is identical and exits 0, first copy and re-run alike', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, {
      'big.bin': file(Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 31) & 0xff))),
      'small.txt': file('small\n'),
      'sub/empty.txt': file(''),
    });

    const first = await cli(['--verify', '--json', source, dest]);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(parseJson(first).counts).toEqual(counts({ files: 3, directories: 2, created: 5 }));
    expect(diffTrees(await snapshotTree(source), await snapshotTree(dest))).toEqual([]);

    fs.writeFileSync(path.join(source, 'small.txt'), 'changed\n');
    const again = await cli(['--verify', '--json', source, dest]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(parseJson(again).counts).toEqual(counts({ files: 1, overwritten: 1, skipped: 2 }));
    expect(diffTrees(await snapshotTree(source), await snapshotTree(dest))).toEqual([]);
  });

  it('--manifest: `sha256sum -c` passes in the destination, odd names included, skipped files too on a re-run', async () => {
    const { root, source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, [
      { path: 'plain.txt', ...file('plain\n') },
      { path: 'with space.txt', ...file('space\n') },
      { path: 'back\\slash.txt', ...file('backslash\n') },
      { path: 'with\nnewline.txt', ...file('newline\n') },
      { path: 'empty.txt', ...file('') },
      { path: 'sub/deep/x.bin', ...file(Buffer.alloc(100_000, 7)) },
      { path: 'hard/one', ...file('one inode\n') },
      { path: 'hard/two', type: 'hardlink', target: 'hard/one' },
      { path: 'link', type: 'symlink', target: 'plain.txt' },
    ]);
    const regularFiles = ['back\\slash.txt', 'empty.txt', 'hard/one', 'hard/two', 'plain.txt', 'sub/deep/x.bin', 'with\nnewline.txt', 'with space.txt'];
    const namesIn = (manifest: string): string[] =>
      lines(fs.readFileSync(manifest, 'utf8'))
        .map((line) => {
          const match = /^(\\?)([0-9a-f]{64}) {2}(.*)$/s.exec(line);
          expect(match, line).not.toBeNull();
          const [, escaped, , name] = match!;
          return escaped ? name!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)) : name!;
        })
        .sort();
    const check = (manifest: string): Promise<RunResult> => runCommand(['sha256sum', '--strict', '-c', manifest], { cwd: dest });

    const first = await cli(['--manifest', path.join(root, 'first.sha256'), source, dest]);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(namesIn(path.join(root, 'first.sha256'))).toEqual([...regularFiles].sort());
    const checked = await check(path.join(root, 'first.sha256'));
    expect(checked.exitCode, checked.stdout + checked.stderr).toBe(0);
    expect(lines(checked.stdout).filter((line) => line.endsWith(': OK'))).toHaveLength(regularFiles.length);

    fs.writeFileSync(path.join(source, 'plain.txt'), 'plain, changed\n');
    const second = await cli(['--manifest', path.join(root, 'second.sha256'), '--json', source, dest]);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(parseJson(second).counts).toMatchObject({ overwritten: 1, skipped: regularFiles.length - 1 + 1 });
    expect(namesIn(path.join(root, 'second.sha256'))).toEqual([...regularFiles].sort());
    const rechecked = await check(path.join(root, 'second.sha256'));
    expect(rechecked.exitCode, rechecked.stdout + rechecked.stderr).toBe(0);
    expect(await findTempLeftovers(root)).toEqual([]);

    // The manifest really checks the bytes: a changed copy fails it.
    fs.writeFileSync(path.join(dest, 'with space.txt'), 'SPACE\n');
    expect((await check(path.join(root, 'second.sha256'))).exitCode).toBe(1);
  });

  it('--manifest with --dry-run is a usage error (exit 2), and writes no manifest', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    await writeTree(source, { 'a.txt': 'a' });

    const result = await cli(['--dry-run', '--manifest', path.join(root, 'm.sha256'), source, path.join(root, 'copy')]);

    expect(result.exitCode).toBe(2);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/^foldercopy: .*manifest/);
    expect(fs.readdirSync(root)).toEqual(['source']);
  });
});

// ---------------------------------------------------------------------------
// --delete
// ---------------------------------------------------------------------------

describe('--delete', () => {
  it('keeps excluded paths at the destination and deletes the rest of what the source lacks', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, { 'a.txt': 'a', 'sub/b.txt': 'b', 'sub/c.log': 'excluded' });
    await writeTree(dest, { 'node_modules/pkg/i.js': 'kept', 'sub/debug.log': 'kept', 'sub/stale.txt': 'goes', 'stale-dir/x': 'goes' });

    const result = await cli(['--delete', '--exclude', 'node_modules', '--exclude', '*.log', '--json', source, dest]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(listTree(dest)).toEqual(['a.txt', 'node_modules/', 'node_modules/pkg/', 'node_modules/pkg/i.js', 'sub/', 'sub/b.txt', 'sub/debug.log']);
    expect(parseJson(result).counts).toEqual(counts({ files: 2, created: 2, deleted: 3 }));
  });

  it('refuses when the source is empty: exit 2, one line, nothing touched', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    fs.mkdirSync(source);
    await writeTree(dest, { 'precious.txt': 'p', 'sub/more.txt': 'm' });
    const stats = statTree(dest);

    const result = await cli(['--delete', source, dest]);

    expect(result.exitCode).toBe(2);
    expect(lines(result.stderr)).toEqual([
      `foldercopy: refusing --delete: the source is empty, so everything at the destination would be deleted: ${source}`,
    ]);
    expect(statTree(dest)).toEqual(stats);
  });

  it('a file replaced by a directory (and a symlink by a directory) in the source is replaced at the destination', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, [
      { path: 'x', ...file('x') },
      { path: 'l', type: 'symlink', target: 'x' },
      { path: 'y.txt', ...file('y') },
    ]);
    expect((await cli([source, dest])).exitCode).toBe(0);
    fs.rmSync(path.join(source, 'x'));
    fs.rmSync(path.join(source, 'l'));
    await writeTree(source, { 'x/in.txt': 'in x', 'l/in.txt': 'in l' });

    const result = await cli(['--delete', source, dest]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(diffTrees(await snapshotTree(source), await snapshotTree(dest))).toEqual([]);
  });

  // The file cannot be renamed over the directory (EISDIR): the job waits for the delete pass, which removes the
  // directory, and then runs again, so a nightly mirror converges without a manual rm.
  it('a directory replaced by a file in the source: a --delete run replaces it, as `rsync -a --delete` does', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, { 'x/inner.txt': file('inner'), 'y.txt': file('y') });
    expect((await cli([source, dest])).exitCode).toBe(0);
    fs.rmSync(path.join(source, 'x'), { recursive: true });
    await writeTree(source, { x: file('now a file') });

    const result = await cli(['--delete', source, dest]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(listTree(dest)).toEqual(['x', 'y.txt']);
    expect(diffTrees(await snapshotTree(source), await snapshotTree(dest))).toEqual([]);
  });

  it('--max-delete: more deletions than allowed deletes nothing (exit 1); enough allowed deletes them; without --delete is exit 2', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, { 'a.txt': 'a', 'b.txt': 'b' });
    await writeTree(dest, { 'x1': '1', 'x2': '2', 'x3': '3' });
    const reason = '3 entries would be deleted, more than --max-delete allows (2)';

    const preview = await cli(['--delete', '--max-delete', '2', '-n', source, dest]);
    expect(preview.exitCode, preview.stderr).toBe(1);
    expect(preview.stderr).toContain(`foldercopy: would delete nothing: ${reason}\n`);
    expect(listTree(dest)).toEqual(['x1', 'x2', 'x3']);

    const refused = await cli(['--delete', '--max-delete', '2', '--json', source, dest]);
    expect(refused.exitCode, refused.stderr).toBe(1);
    expect(refused.stderr).toContain(`foldercopy: deleted nothing: ${reason}\n`);
    const doc = parseJson(refused);
    expect(doc).toMatchObject({ status: 'failed', exitCode: 1, deletionSkipped: reason, failures: [] });
    expect(doc.counts).toEqual(counts({ files: 2, created: 2 }));
    expect(listTree(dest)).toEqual(['a.txt', 'b.txt', 'x1', 'x2', 'x3']);

    const allowed = await cli(['--delete', '--max-delete', '3', source, dest]);
    expect(allowed.exitCode, allowed.stderr).toBe(0);
    expect(allowed.stderr).toMatch(/; 2 skipped, 3 deleted, 0 failed$/m);
    expect(listTree(dest)).toEqual(['a.txt', 'b.txt']);

    const usage = await cli(['--max-delete', '3', source, dest]);
    expect(usage.exitCode).toBe(2);
    expect(lines(usage.stderr)).toHaveLength(1);
    expect(usage.stderr).toMatch(/^foldercopy: .*--delete/);
  });

  it.skipIf(!isRoot())(
    `deletes nothing when an entry failed to copy (unreadable file, run as nobody)${isRoot() ? '' : ' [skipped: needs root to run as nobody]'}`,
    async () => {
      const root = await tempDir();
      fs.chmodSync(root, 0o755);
      const source = path.join(root, 'source');
      const dest = path.join(root, 'copy');
      await writeTree(source, { 'a.txt': 'a', secret: { type: 'file', content: 'top secret', mode: 0o000 } });
      // a.txt shares a name with the source: the --delete guard lets the run start.
      await writeTree(dest, { 'a.txt': 'old', 'extra.txt': 'would go' });
      fs.chownSync(path.join(dest, 'a.txt'), 65534, 65534);
      fs.chownSync(dest, 65534, 65534);
      fs.chownSync(path.join(dest, 'extra.txt'), 65534, 65534);

      const result = await cli(['--delete', '--json', source, dest], { asUser: 'nobody' });

      expect(result.exitCode, result.stderr).toBe(1);
      expect(result.stderr).toContain(`foldercopy: cannot read: ${path.join(source, 'secret')}: permission denied (EACCES)`);
      expect(result.stderr).toContain('foldercopy: deleted nothing: some entries failed to copy\n');
      const doc = parseJson(result);
      expect(doc).toMatchObject({ status: 'failed', exitCode: 1, deletionSkipped: 'some entries failed to copy' });
      expect(doc.counts).toMatchObject({ files: 1, overwritten: 1, deleted: 0, failed: 1 });
      expect(listTree(dest)).toEqual(['a.txt', 'extra.txt']);
    },
  );
});

// ---------------------------------------------------------------------------
// Output switches, and the API's own checks
// ---------------------------------------------------------------------------

describe('output', () => {
  it('-q prints nothing on success (not even the special-file warning) and only the error when delete is refused', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, [
      { path: 'a.txt', ...file('a') },
      { path: 'pipe', type: 'fifo' },
    ]);

    const quiet = await cli(['-q', source, dest]);
    expect(quiet.exitCode).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toBe('');
    expect(read(dest, 'a.txt')).toBe('a');

    fs.writeFileSync(path.join(dest, 'extra.txt'), 'x');
    const refused = await cli(['--quiet', '--delete', '--max-delete', '0', source, dest]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/^foldercopy: deleted nothing: 1 entr(y|ies) would be deleted, more than --max-delete allows \(0\)\n$/);
  });

  it('-v prints one line per entry; without it only the summary', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, [
      { path: 'a.txt', ...file('a') },
      { path: 'sub/b.txt', ...file('b') },
      { path: 'link', type: 'symlink', target: 'a.txt' },
    ]);

    // Entry lines go to stdout; the summary stays on stderr.
    const verbose = await cli(['-v', source, dest]);
    expect(verbose.exitCode, verbose.stderr).toBe(0);
    expect(entryLines(verbose.stdout)).toEqual(['create .', 'create a.txt', 'create link', 'create sub', 'create sub/b.txt']);
    expect(lines(verbose.stderr)).toHaveLength(1);
    expect(lines(verbose.stderr).at(-1)).toMatch(/^foldercopy: copied 2 files, 2 directories, 1 symlink, /);

    // -v lists what changes: nothing here. -vv lists the skipped entries too.
    const quietAgain = await cli(['--verbose', source, dest]);
    expect(quietAgain.stdout).toBe('');
    const again = await cli(['--verbose', '--verbose', source, dest]);
    const skipped = entryLines(again.stdout);
    expect(skipped).toHaveLength(3);
    expect(skipped[0]).toBe('skip a.txt (same size and mtime)');
    expect(skipped[1]).toMatch(/^skip link \(.+\)$/);
    expect(skipped[2]).toBe('skip sub/b.txt (same size and mtime)');

    const plain = await cli([source, dest]);
    expect(lines(plain.stderr)).toHaveLength(1);
    expect(plain.stderr).toMatch(/^foldercopy: copied 0 files, .*; 3 skipped, 0 failed\n$/);
  });

  it('--no-progress draws no bar on a terminal', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    await writeTree(source, { 'a.txt': 'a' });

    const withBar = await runCliInPty([...JOBS, source, path.join(root, 'copy1')]);
    expect(withBar.exitCode).toBe(0);
    expect(withBar.output).toContain('\x1b[?25l');

    const noBar = await runCliInPty([...JOBS, '--no-progress', source, path.join(root, 'copy2')]);
    expect(noBar.exitCode).toBe(0);
    expect(noBar.output).not.toContain('\x1b');
    expect(noBar.output).toMatch(/^foldercopy: copied 1 file, 1 directory, 0 symlinks, .*; 0 skipped, 0 failed\n$/);
  });

  it('the API refuses an unknown overwrite policy before writing anything', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    await writeTree(source, { 'a.txt': 'a' });

    await expect(copyFolder(source, path.join(root, 'copy'), { overwrite: 'sometimes' as never })).rejects.toBeInstanceOf(FoldercopyError);
    expect(fs.existsSync(path.join(root, 'copy'))).toBe(false);
  });
});
