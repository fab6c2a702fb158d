// What a cp or rsync user types, in a terminal, in scripts and from the library, does no harm.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFolder, FoldercopyError } from '../dist/index.js';
import { stagingPidOf } from '../src/shared/names-on-disk.js';
import { CLI_PATH, isRoot, runCli, runCliInPty, runCommand, startCli, waitFor } from './helpers/run-cli.js';
import { diffTrees, snapshotTree, useTempDirs, writeManySmallFiles, writeTree } from './helpers/tree.js';

const tempDir = useTempDirs();
const HOUR_NS = 3_600_000_000_000n;
const NOW_NS = BigInt(Date.now()) * 1_000_000n;

describe('the cp habit `foldercopy ../lib .` into a directory of its own', () => {
  it('is refused before writing, naming the file it would replace and both ways on; --overwrite and --force go ahead', async () => {
    const root = await tempDir();
    // As the issue typed it: two READMEs written side by side, the user's own last.
    await writeTree(root, { 'lib2/README.md': 'LIB\n', 'lib2/lib.js': 'lib', 'mine/README.md': 'mine\n' });
    const mine = path.join(root, 'mine');

    const refused = await runCli(['../lib2', '.'], { cwd: mine });

    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toBe(
      'foldercopy: refusing to overwrite files in ., which does not look like an earlier copy of ../lib2: README.md would be replaced; to copy the folder itself, use ./lib2; to overwrite them, give --overwrite\n',
    );
    expect(fs.readdirSync(mine)).toEqual(['README.md']);
    expect(fs.readFileSync(path.join(mine, 'README.md'), 'utf8')).toBe('mine\n');

    const json = await runCli(['--json', '-n', '../lib2', '.'], { cwd: mine });
    expect(json.exitCode).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'refused', error: { code: 'OVERWRITE_REFUSED', path: '.' } });

    const overwrite = await runCli(['--overwrite', '../lib2', '.'], { cwd: mine });
    expect(overwrite.exitCode, overwrite.stderr).toBe(0);
    expect(fs.readFileSync(path.join(mine, 'README.md'), 'utf8')).toBe('LIB\n');
    fs.writeFileSync(path.join(mine, 'README.md'), 'mine again\n');
    const force = await runCli(['--force', '../lib2', '.'], { cwd: mine });
    expect(force.exitCode, force.stderr).toBe(0);
    expect(fs.readFileSync(path.join(mine, 'README.md'), 'utf8')).toBe('LIB\n');
  });

  it('names files it would replace below shared directories, a few of them', async () => {
    const root = await tempDir();
    const old = NOW_NS - HOUR_NS;
    await writeTree(path.join(root, 'lib'), [
      { path: 'src/a.js', type: 'file', content: 'lib a', mtime: old },
      { path: 'src/b.js', type: 'file', content: 'lib b', mtime: old },
      { path: 'src/c.js', type: 'file', content: 'lib c', mtime: old },
      { path: 'src/d.js', type: 'file', content: 'lib d', mtime: old },
    ]);
    await writeTree(path.join(root, 'app'), { 'src/a.js': 'app a', 'src/b.js': 'app b', 'src/c.js': 'app c', 'src/d.js': 'app d', 'package.json': '{}', '.git/HEAD': 'ref' });
    const before = await snapshotTree(path.join(root, 'app'));

    const refused = await runCli([path.join(root, 'lib'), path.join(root, 'app')]);

    expect(refused.exitCode).toBe(2);
    const app = path.join(root, 'app');
    expect(refused.stderr).toMatch(
      new RegExp(`^foldercopy: refusing to overwrite files in ${app}, [^:]*: ${app}/src/[a-d]\\.js, ${app}/src/[a-d]\\.js, ${app}/src/[a-d]\\.js, … would be replaced; to copy the folder itself, use ${app}/lib; to overwrite them, give --overwrite\\n$`),
    );
    expect(diffTrees(before, await snapshotTree(app))).toEqual([]);
  });

  it('from the library: rejects with OVERWRITE_REFUSED in the library\'s terms, and goes ahead when overwrite is given', async () => {
    const root = await tempDir();
    await writeTree(root, { 'lib/README.md': 'LIB\n', 'mine/README.md': 'mine\n' });
    const [lib, mine] = [path.join(root, 'lib'), path.join(root, 'mine')];

    const error = await copyFolder(lib, mine).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FoldercopyError);
    expect(error).toMatchObject({ code: 'OVERWRITE_REFUSED', path: mine });
    expect((error as Error).message).toMatch(/give the overwrite option$/);
    expect(fs.readFileSync(path.join(mine, 'README.md'), 'utf8')).toBe('mine\n');
    const summary = await copyFolder(lib, mine, { overwrite: 'changed' });
    expect(summary.overwritten).toBe(1);
    expect(fs.readFileSync(path.join(mine, 'README.md'), 'utf8')).toBe('LIB\n');
  });
});

describe('what must stay as it is', () => {
  it('a re-run into an earlier copy after a file changed, after a rebuild of everything, and with one file edited at the destination', async () => {
    const root = await tempDir();
    const [source, copy] = [path.join(root, 'build'), path.join(root, 'copy')];
    const old = NOW_NS - 2n * HOUR_NS;
    await writeTree(source, [
      { path: 'index.html', type: 'file', content: 'v1', mtime: old },
      { path: 'app.js', type: 'file', content: 'v1', mtime: old },
      { path: 'static/logo.svg', type: 'file', content: 'v1', mtime: old },
    ]);
    expect((await runCli([source, copy])).exitCode).toBe(0);
    // One file changed: the others are identical.
    await writeTree(source, [{ path: 'app.js', type: 'file', content: 'v2 longer', mtime: old + HOUR_NS }]);
    const changed = await runCli([source, copy]);
    expect(changed.exitCode, changed.stderr).toBe(0);
    // Everything rebuilt: every file newer in the source than in the copy.
    await writeTree(source, { 'index.html': 'v3', 'app.js': 'v3', 'static/logo.svg': 'v3', 'new.js': 'v3' });
    const rebuilt = await runCli([source, copy]);
    expect(rebuilt.exitCode, rebuilt.stderr).toBe(0);
    expect(diffTrees(await snapshotTree(source), await snapshotTree(copy))).toEqual([]);
    // One file edited in the copy: the rest is plainly the source's copy.
    fs.writeFileSync(path.join(copy, 'app.js'), 'edited in the copy');
    const edited = await runCli([source, copy]);
    expect(edited.exitCode, edited.stderr).toBe(0);
    expect(diffTrees(await snapshotTree(source), await snapshotTree(copy))).toEqual([]);
  });

  it('a fresh or empty directory, one sharing no name with the source, and a --delete mirror', async () => {
    const root = await tempDir();
    const source = path.join(root, 'build');
    await writeTree(source, { 'README.md': 'build', 'app.js': 'app' });
    fs.mkdirSync(path.join(root, 'artifacts'));
    expect((await runCli([source, path.join(root, 'artifacts')])).exitCode).toBe(0);
    await writeTree(root, { 'other/coverage.txt': 'c' });
    const beside = await runCli([source, path.join(root, 'other')]);
    expect(beside.exitCode, beside.stderr).toBe(0);
    expect(beside.stderr).toContain('note: the contents of');
    // A mirror says the destination is the source's copy.
    await writeTree(root, { 'mirror/README.md': 'mine, newer', 'mirror/app.js': 'x' });
    const mirror = await runCli(['--delete', source, path.join(root, 'mirror')]);
    expect(mirror.exitCode, mirror.stderr).toBe(0);
    expect(diffTrees(await snapshotTree(source), await snapshotTree(path.join(root, 'mirror')))).toEqual([]);
  });
});

describe('reflex flags of cp and rsync', () => {
  it('-a, -r, -av, --archive, --recursive are accepted and change nothing; -u is --update', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    await writeTree(source, { 'a.txt': 'a', 'sub/b.txt': 'b' });
    for (const flags of [['-a'], ['-r'], ['--archive'], ['--recursive'], ['-ar']]) {
      const copy = path.join(root, `copy${flags.join('')}`);
      const result = await runCli([...flags, source, copy]);
      expect(result.exitCode, `${flags.join(' ')}: ${result.stderr}`).toBe(0);
      expect(result.stdout).toBe('');
      expect(diffTrees(await snapshotTree(source), await snapshotTree(copy))).toEqual([]);
    }
    const verbose = await runCli(['-av', source, path.join(root, 'copy-av')]);
    expect(verbose.exitCode, verbose.stderr).toBe(0);
    expect(verbose.stdout.split('\n').sort()).toEqual(['', 'create .', 'create a.txt', 'create sub', 'create sub/b.txt']);
    // -u keeps a destination file newer than the source's, as --update does.
    const copy = path.join(root, 'copy-a');
    fs.writeFileSync(path.join(copy, 'a.txt'), 'newer in the copy');
    const update = await runCli(['-u', source, copy]);
    expect(update.exitCode, update.stderr).toBe(0);
    expect(fs.readFileSync(path.join(copy, 'a.txt'), 'utf8')).toBe('newer in the copy');
  });

  it('flags that are defaults or have another name get a one-line hint, exit 2 and nothing copied', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    await writeTree(source, { 'a.txt': 'a' });
    const expected: Array<[string, RegExp]> = [
      ['-P', /^foldercopy: unknown option '-P': not needed: progress is shown by default .*\(see foldercopy --help\)\n$/],
      ['--info=progress2', /^foldercopy: unknown option '--info=progress2': not needed: progress is shown by default /],
      ['--no-clobber', /^foldercopy: unknown option '--no-clobber': its name here is --ignore-existing \(see foldercopy --help\)\n$/],
      ['--xattrs', /^foldercopy: unknown option '--xattrs': not needed: extended attributes are copied by default \(see foldercopy --help\)\n$/],
      ['-X', /^foldercopy: unknown option '-X': not needed: foldercopy always keeps .*extended attributes and ACLs \(see foldercopy --help\)\n$/],
      ['-A', /^foldercopy: unknown option '-A': not needed: foldercopy always keeps /],
      ['-H', /^foldercopy: unknown option '-H': not needed: foldercopy always keeps /],
      ['--sparse', /^foldercopy: unknown option '--sparse': not needed: foldercopy always keeps /],
      ['-t', /^foldercopy: unknown option '-t': not needed: foldercopy always keeps /],
      ['-p', /^foldercopy: unknown option '-p': not needed: foldercopy always keeps /],
      ['--chekcsum', /^foldercopy: unknown option '--chekcsum', did you mean --checksum\? \(see foldercopy --help\)\n$/],
      ['-z', /^foldercopy: unknown option '-z' \(see foldercopy --help\)\n$/],
    ];
    for (const [flag, line] of expected) {
      const copy = path.join(root, 'copy');
      const result = await runCli([flag, source, copy]);
      expect(result.exitCode, flag).toBe(2);
      expect(result.stderr, flag).toMatch(line);
      expect(result.stderr.split('\n')).toHaveLength(2);
      expect(fs.existsSync(copy), flag).toBe(false);
    }
  });
});

describe('our own output failing', () => {
  const hasDevFull = fs.statSync('/dev/full', { throwIfNoEntry: false })?.isCharacterDevice() === true;

  it.skipIf(!hasDevFull)('stdout to a full disk (--json, -v) or to a reader gone (-n | head -0): one line, exit 1, the copy complete', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    await writeTree(source, { 'a.txt': 'a', 'sub/b.txt': 'b' });
    const cases: Array<[string, string, RegExp]> = [
      ['--json', '"$0" "$1" --json "$2" "$3" > /dev/full', /no space left on device \(ENOSPC\)/],
      ['-v', '"$0" "$1" -v "$2" "$3" > /dev/full', /no space left on device \(ENOSPC\)/],
      ['--log -', '"$0" "$1" --log - "$2" "$3" > /dev/full', /no space left on device \(ENOSPC\)/],
      ['-n', '"$0" "$1" -n "$2" "$3" | (exec head -c 0); exit "${PIPESTATUS[0]}"', /broken pipe \(EPIPE\)/],
    ];
    for (const [name, script, reason] of cases) {
      const copy = path.join(root, `copy${name.replace(/\W/g, '')}`);
      const result = await runCommand(['bash', '-c', script, process.execPath, CLI_PATH, source, copy]);
      expect(result.exitCode, `${name}: ${result.stderr}`).toBe(1);
      const lines = result.stderr.split('\n').filter((line) => line.includes('standard output'));
      expect(lines, name).toHaveLength(1);
      expect(lines[0], name).toMatch(new RegExp(`^foldercopy: cannot write: standard output: ${reason.source}$`));
      expect(result.stderr, name).not.toMatch(/\n\s+at /);
      if (name !== '-n') expect(diffTrees(await snapshotTree(source), await snapshotTree(copy)), name).toEqual([]);
    }
  });

  it.skipIf(!hasDevFull)('--log to a full disk mid-copy stops the run with one line, exit 1, and leaves no staging directory', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    // Enough entries for the log to be written before the end of the copy.
    await writeTree(source, Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`d${i % 10}/file-with-a-long-name-${i}.txt`, `${i}`])));
    const copy = path.join(root, 'copy');

    const result = await runCli(['--log', '/dev/full', source, copy]);

    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toContain('foldercopy: copy stopped: cannot write: /dev/full: no space left on device (ENOSPC)\n');
    expect(result.stderr).not.toMatch(/\n\s+at |internal error/);
    expect(fs.readdirSync(root).sort()).toEqual(['copy', 'source']);
  });

  it.skipIf(!hasDevFull)('--manifest onto a device is refused before copying, and the device stays', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    await writeTree(source, { 'a.txt': 'a' });

    const result = await runCli(['--manifest', '/dev/full', source, path.join(root, 'copy')]);

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe('foldercopy: the manifest must be a regular file or a new name: it is written whole and renamed into place: /dev/full\n');
    expect(fs.statSync('/dev/full').isCharacterDevice()).toBe(true);
    expect(fs.existsSync(path.join(root, 'copy'))).toBe(false);
  });
});

describe('SIGHUP (a closed terminal, an ssh drop)', () => {
  it('stops the run as SIGTERM does: exit 129, the lock released, the staged copy moved into place', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    writeManySmallFiles(source, 50, 200);
    const copy = path.join(root, 'copy');
    const started = startCli(['-j', '2', source, copy]);
    try {
      // A first copy is staged beside the destination: wait for files in it.
      await waitFor(() => fs.readdirSync(root).some((name) => stagingPidOf(copy, path.join(root, name)) !== undefined && fs.readdirSync(path.join(root, name)).length > 1), {
        timeoutMs: 30_000,
        description: 'the staged copy under way',
      });
      // The kernel signals the terminal's process group, and the shell its jobs again.
      started.signalGroup('SIGHUP');
      started.signalGroup('SIGHUP');
      const result = await started.result;

      expect(result.exitCode, result.stderr).toBe(129);
      expect(result.stderr).toMatch(/^foldercopy: hung up; finishing files in flight/m);
      expect(result.stderr).toMatch(/^foldercopy: interrupted after copying [\d,]+ files?, /m);
      expect(result.stderr).toContain(`\nfoldercopy: ${copy} holds a partial copy; run the same command again to finish it\n`);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(fs.readdirSync(root).sort()).toEqual(['copy', 'source']);
    } finally {
      started.signalGroup('SIGKILL');
    }
  });
});

describe('the library checks its options at run time, in its own words', () => {
  it('a string for a list, a bad count, a wrong type: FoldercopyError USAGE naming the option, nothing copied', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    await writeTree(source, { 'a.log': 'log', 'b.md': 'md' });
    const copy = path.join(root, 'copy');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ exclude: '*.log' }, 'the exclude option must be an array of strings, got "*.log"'],
      [{ include: '*.md' }, 'the include option must be an array of strings, got "*.md"'],
      [{ exclude: ['*.log', 5] }, 'the exclude option must be an array of strings, got ["*.log", 5]'],
      [{ jobs: 0 }, 'the jobs option must be a whole number from 1 to 64, got 0'],
      [{ jobs: '4' }, 'the jobs option must be a number, got "4"'],
      [{ dryRun: 'yes' }, 'the dryRun option must be true or false, got "yes"'],
      [{ onProgress: true }, 'the onProgress option must be a function, got true'],
      [{ signal: {} }, 'the signal option must be an AbortSignal, got an object'],
      [{ maxDelete: 3 }, 'the maxDelete option needs the delete option'],
      [{ overwrite: 'sometimes' }, 'the overwrite option must be one of "changed", "checksum", "never", "older", "always", got "sometimes"'],
    ];
    for (const [options, message] of cases) {
      const error = await copyFolder(source, copy, options as never).catch((e: unknown) => e);
      expect(error, JSON.stringify(options)).toBeInstanceOf(FoldercopyError);
      expect(error, JSON.stringify(options)).toMatchObject({ code: 'USAGE', message });
      expect(fs.existsSync(copy), JSON.stringify(options)).toBe(false);
    }
    const notAPath = await copyFolder(42 as never, copy).catch((e: unknown) => e);
    expect(notAPath).toMatchObject({ name: 'FoldercopyError', code: 'USAGE', message: 'the source must be a path (a string), got 42' });
  });

  it('the command words the same refusals with its flags', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    await writeTree(source, { 'a.txt': 'a' });

    const result = await runCli(['--max-delete', '1', source, path.join(root, 'copy')]);

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe('foldercopy: --max-delete needs --delete\n');
    const pattern = await runCli(['--include', 'src/', source, path.join(root, 'copy')]);
    expect(pattern.stderr).toBe('foldercopy: invalid pattern "src/" in --include: an include pattern selects files, not directories; "src/**" selects the files under src\n');
  });
});

describe('a destination that vanishes between two checks (a stale network-mount cache)', () => {
  // The destination is really removed right after its n-th check (helpers/vanishing-destination.mjs),
  // for each n the run makes before it writes: every window between a check and the next one.
  it('is one line and a non-zero exit, or a complete copy; never an internal error, and nothing lost', async () => {
    const root = await tempDir();
    await writeTree(path.join(root, 'src'), { 'a.txt': 'a', 'sub/b.txt': 'b' });
    const source = await snapshotTree(path.join(root, 'src'));
    const preload = `--import=${new URL('./helpers/vanishing-destination.mjs', import.meta.url).href}`;
    const refusals: string[] = [];
    for (let n = 1; n <= 14; n++) {
      fs.rmSync(path.join(root, 'dst'), { recursive: true, force: true });
      fs.mkdirSync(path.join(root, 'dst'));

      const result = await runCli(['src', 'dst'], { cwd: root, env: { NODE_OPTIONS: preload, FOLDERCOPY_TEST_VANISH: `dst:${n}` } });

      const what = `vanished after check ${n}: exit ${result.exitCode}\n${result.stderr}`;
      expect(result.stderr, what).not.toMatch(/internal error|^\s+at /m);
      expect(result.stderr.split('\n').slice(0, -1).every((line) => line.startsWith('foldercopy: ') || line.startsWith('  ')), what).toBe(true);
      if (result.exitCode === 0) expect(diffTrees(source, await snapshotTree(path.join(root, 'dst'))), what).toEqual([]);
      else expect([1, 2], what).toContain(result.exitCode);
      if (result.exitCode === 2) {
        expect(result.stderr, what).toMatch(/^foldercopy: cannot [a-z ]+ the destination: dst: no such file or directory \(ENOENT\)\n$/);
        refusals.push(result.stderr);
      }
      expect(diffTrees(source, await snapshotTree(path.join(root, 'src'))), what).toEqual([]);
      // No lock, no staging left beside it.
      expect(fs.readdirSync(root).sort(), what).toEqual(fs.existsSync(path.join(root, 'dst')) ? ['dst', 'src'] : ['src']);
    }
    // The checks before the lock, where the destination is looked at twice: each window is a refusal.
    expect(refusals.filter((line) => line.includes('cannot use the destination')).length, refusals.join('')).toBeGreaterThanOrEqual(1);
  }, 120_000);
});

describe('smaller things a user meets', () => {
  it('a trailing slash names a directory: `app.js outdir/` makes outdir/app.js; onto a file it is refused', async () => {
    const root = await tempDir();
    await writeTree(root, { 'build/app.js': 'js' });

    const result = await runCli(['build/app.js', 'outdir/'], { cwd: root });

    expect(result.exitCode, result.stderr).toBe(0);
    expect(fs.readFileSync(path.join(root, 'outdir', 'app.js'), 'utf8')).toBe('js');
    const ontoFile = await runCli(['build/app.js', 'outdir/app.js/'], { cwd: root });
    expect(ontoFile.exitCode).toBe(2);
    expect(ontoFile.stderr).toBe('foldercopy: the destination ends with a slash, but is not a directory: outdir/app.js\n');
  });

  it('a remote destination (user@host:/path) is refused, naming what does it, and nothing is made', async () => {
    const root = await tempDir();
    await writeTree(root, { 'src/a.txt': 'a' });

    const result = await runCli(['src', 'user@host:/backup'], { cwd: root });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      'foldercopy: a remote destination is not supported: user@host:/backup; copy to and from other machines with rsync or scp (for a local name with a colon, write ./user@host:/backup)\n',
    );
    expect(fs.readdirSync(root)).toEqual(['src']);
  });

  it('an empty destination is said to be empty, and an empty command line names the source it misses', async () => {
    const root = await tempDir();
    await writeTree(root, { 'm/src/a.txt': 'a' });

    const empty = await runCli(['m/src', ''], { cwd: root });
    expect(empty.exitCode).toBe(2);
    expect(empty.stderr).toBe('foldercopy: the destination path is empty\n');
    const nothing = await runCli([], { cwd: root });
    expect(nothing.exitCode).toBe(2);
    expect(nothing.stderr).toBe("foldercopy: missing required argument 'source' (see foldercopy --help)\n");
  });

  it('--help: each example is a command alone on its line, its description below', async () => {
    const help = await runCli(['--help']);
    const examples = help.stdout.slice(help.stdout.indexOf('Examples:'), help.stdout.indexOf('Exit codes:')).split('\n');
    const commands = examples.filter((line) => line.startsWith('  $ '));
    expect(commands.length).toBeGreaterThan(5);
    for (const command of commands) expect(command, command).not.toMatch(/\S {2,}\S/);
    expect(commands).toContain('  $ foldercopy --delete --dry-run src dest');
    expect(commands).toContain('  $ foldercopy --json -q src dest > r.json');
  });

  it('the library gives whole milliseconds: durationMs and every snapshot\'s elapsedMs and etaMs', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    writeManySmallFiles(source, 20, 100);
    const snapshots: Array<{ elapsedMs: number; etaMs: number | undefined }> = [];

    const summary = await copyFolder(source, path.join(root, 'copy'), { onProgress: ({ elapsedMs, etaMs }) => snapshots.push({ elapsedMs, etaMs }) });

    expect(Number.isInteger(summary.durationMs), String(summary.durationMs)).toBe(true);
    expect(snapshots.length).toBeGreaterThan(0);
    for (const { elapsedMs, etaMs } of snapshots) {
      expect(Number.isInteger(elapsedMs), String(elapsedMs)).toBe(true);
      if (etaMs !== undefined) expect(Number.isInteger(etaMs), String(etaMs)).toBe(true);
    }
  });
});

describe('the --delete guard on a real mirror', () => {
  it('after most of the source was deleted: says the destination is an earlier copy and how to allow it; --max-delete N does it', async () => {
    const root = await tempDir();
    const [proj, mirror] = [path.join(root, 'proj'), path.join(root, 'mirror')];
    await writeTree(proj, Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`f${i}.txt`, `${i}`])));
    expect((await runCli(['--delete', proj, mirror])).exitCode).toBe(0);
    for (let i = 0; i < 6; i++) fs.rmSync(path.join(proj, `f${i}.txt`));

    const refused = await runCli(['--delete', 'proj', 'mirror'], { cwd: root });

    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(
      /^foldercopy: refusing --delete: it would delete 6 of the 10 entries at the top of mirror \(f\d\.txt, f\d\.txt, f\d\.txt, …\), which the source no longer has; mirror looks like an earlier copy of proj: to delete them, allow it with --max-delete set to 6\n$/,
    );
    expect(refused.stderr).not.toContain('to copy the folder itself');
    expect(fs.readdirSync(mirror)).toHaveLength(10);
    const allowed = await runCli(['--delete', '--max-delete', '6', 'proj', 'mirror'], { cwd: root });
    expect(allowed.exitCode, allowed.stderr).toBe(0);
    expect(diffTrees(await snapshotTree(proj), await snapshotTree(mirror))).toEqual([]);
  });
});

describe('machine-readable paths follow one rule', () => {
  it.skipIf(!isRoot())('an unlistable directory and an unreadable file: --log relative with their types, --json failures with the same `entry`', async () => {
    const root = await tempDir();
    fs.chmodSync(root, 0o755);
    await writeTree(path.join(root, 'src'), {
      'ok.txt': 'ok',
      locked: { type: 'dir', mode: 0o000 },
      'sub/secret.txt': { type: 'file', content: 'secret', mode: 0o000 },
    });
    const logDir = path.join(root, 'logs');
    fs.mkdirSync(logDir);
    fs.chownSync(logDir, 65534, 65534);
    fs.mkdirSync(path.join(root, 'out'));
    fs.chownSync(path.join(root, 'out'), 65534, 65534);

    const result = await runCli(['--json', '--log', 'logs/run.jsonl', 'src', 'out/copy'], { cwd: root, asUser: 'nobody' });

    expect(result.exitCode, result.stderr).toBe(1);
    const failed = fs
      .readFileSync(path.join(logDir, 'run.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { path: string; action: string; type: string })
      .filter((event) => event.action === 'fail')
      .map(({ path: entry, type }) => ({ path: entry, type }))
      .sort((a, b) => a.path.localeCompare(b.path));
    expect(failed).toEqual([
      { path: 'locked', type: 'directory' },
      { path: 'sub/secret.txt', type: 'file' },
    ]);
    const failures = (JSON.parse(result.stdout) as { failures: Array<{ path: string; entry: string; operation: string }> }).failures;
    expect(failures.map(({ path: where, entry, operation }) => ({ where, entry, operation })).sort((a, b) => a.entry.localeCompare(b.entry))).toEqual([
      { where: 'src/locked', entry: 'locked', operation: 'list' },
      { where: 'src/sub/secret.txt', entry: 'sub/secret.txt', operation: 'read' },
    ]);
  });
});

describe('the summary on an 80-column terminal', () => {
  it('is broken between its fields, every row within the width, no number cut', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    writeManySmallFiles(source, 40, 150);

    const { exitCode, output } = await runCliInPty(['--no-progress', source, path.join(root, 'copy')], { columns: 80 });

    expect(exitCode, output).toBe(0);
    const rows = output.trimEnd().split('\n').slice(-2);
    expect(rows[0]).toMatch(/^foldercopy: copied 6,000 files, 41 directories, 0 symlinks,$/);
    expect(rows[1]).toMatch(/^ {2}[\d.]+ [kMG]?B in [\d.]+ s \([\d.]+ [kMG]?B\/s\); 0 skipped, 0 failed$/);
    for (const row of rows) expect([...row].length).toBeLessThan(80);
  });
});
