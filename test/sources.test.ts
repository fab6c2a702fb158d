// Sources the way people give them: several sources (cp -a a b c dest/), glob sources (cpy-cli, copyfiles),
// --exclude-from, --files-from and --from0 (rsync), end to end through the CLI, and the library's `files` option.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFolder, FoldercopyError } from '../dist/index.js';
import { CLI_PATH, runCli, runCommand, type RunResult } from './helpers/run-cli.js';
import { useTempDirs, writeTree, type TreeSpec } from './helpers/tree.js';

const tempDir = useTempDirs();

function cli(args: readonly string[], cwd: string): Promise<RunResult> {
  return runCli(['-j', '2', '--no-progress', ...args], { cwd });
}

/** `cd cwd && printf input | foldercopy args`: a list on stdin. */
function cliWithStdin(input: string, args: readonly string[], cwd: string): Promise<RunResult> {
  const quoted = [process.execPath, CLI_PATH, '-j', '2', '--no-progress', ...args].map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(' ');
  return runCommand(['sh', '-c', `printf '%b' "$1" | ${quoted}`, 'sh', input], { cwd });
}

async function tree(spec: TreeSpec): Promise<string> {
  const root = await tempDir();
  await writeTree(root, spec);
  return root;
}

/** Every entry below `dir`: `path/` for a directory, `path=content` for a file, sorted. */
function contents(dir: string): string[] {
  const entries: string[] = [];
  const visit = (relative: string): void => {
    for (const dirent of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const child = relative === '' ? dirent.name : `${relative}/${dirent.name}`;
      if (dirent.isDirectory()) {
        entries.push(`${child}/`);
        visit(child);
      } else {
        entries.push(`${child}=${fs.readFileSync(path.join(dir, child), 'utf8')}`);
      }
    }
  };
  visit('');
  return entries.sort();
}

/** Exit 2 with one line on stderr and nothing on stdout; returns the line. */
function expectRefused(result: RunResult): string {
  expect(result.exitCode).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

const BUILD: TreeSpec = {
  'build/app.js': 'app\n',
  'build/app.js.map': 'map of app\n',
  'build/lib/util.js': 'util\n',
  'build/lib/util.js.map': 'map of util\n',
  'build/lib/deep/.hidden.map': 'hidden map\n',
  'build/README': 'readme\n',
};

describe('several sources, as cp -a a b c dest/', () => {
  it('copies each source to dest/<its name>, files too, with one summary of the whole', async () => {
    const root = await tree({ 'a/x.txt': 'x\n', 'a/sub/y.txt': 'yy\n', 'b/z.txt': 'zzz\n', 'note.txt': 'note\n' });

    const result = await cli(['a', 'b', 'note.txt', 'dest'], root);

    expect(result.exitCode).toBe(0);
    expect(contents(path.join(root, 'dest'))).toEqual(['a/', 'a/sub/', 'a/sub/y.txt=yy\n', 'a/x.txt=x\n', 'b/', 'b/z.txt=zzz\n', 'note.txt=note\n']);
    const summary = result.stderr.split('\n').filter((line) => line.startsWith('foldercopy: copied'));
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatch(/^foldercopy: copied 4 files, \d+ directories, 0 symlinks, 14 B in .*; 0 skipped, 0 failed$/);
  });

  it('copies into an existing destination beside what it holds; a re-run skips everything', async () => {
    const root = await tree({ 'a/x.txt': 'x\n', 'b/z.txt': 'z\n', 'dest/old.txt': 'old\n' });

    expect((await cli(['a', 'b', 'dest/'], root)).exitCode).toBe(0);
    expect(contents(path.join(root, 'dest'))).toEqual(['a/', 'a/x.txt=x\n', 'b/', 'b/z.txt=z\n', 'old.txt=old\n']);
    const again = await cli(['-v', 'a', 'b', 'dest'], root);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/copied 0 files, 0 directories, 0 symlinks, 0 B .*; 2 skipped, 0 failed/);
  });

  it('a dry run lists entries by their paths in the destination', async () => {
    const root = await tree({ 'a/x.txt': 'x\n', 'b/z.txt': 'z\n' });

    const result = await cli(['-n', 'a', 'b', 'dest'], root);

    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n').filter(Boolean).sort()).toEqual(['create a', 'create a/x.txt', 'create b', 'create b/z.txt']);
    expect(fs.existsSync(path.join(root, 'dest'))).toBe(false);
  });

  it('two sources with the same name are refused before copying, in one line naming both', async () => {
    const root = await tree({ 'x/a/1.txt': '1\n', 'y/a/2.txt': '2\n', 'b/3.txt': '3\n' });

    const line = expectRefused(await cli(['b', 'x/a', 'y/a', 'dest'], root));

    expect(line).toBe(`foldercopy: two sources would be copied to the same name ${path.join('dest', 'a')}: x/a and y/a`);
    expect(fs.existsSync(path.join(root, 'dest'))).toBe(false);
  });

  it('a source refused (missing) refuses them all: nothing is copied', async () => {
    const root = await tree({ 'a/x.txt': 'x\n' });

    const line = expectRefused(await cli(['a', 'missing', 'dest'], root));

    expect(line).toBe('foldercopy: source not found: missing');
    expect(fs.existsSync(path.join(root, 'dest'))).toBe(false);
  });

  it('a destination that is a file is refused', async () => {
    const root = await tree({ 'a/x.txt': 'x\n', 'b/y.txt': 'y\n', dest: 'a file\n' });

    const line = expectRefused(await cli(['a', 'b', 'dest'], root));

    expect(line).toBe('foldercopy: with several sources the destination must be a directory: dest');
    expect(fs.readFileSync(path.join(root, 'dest'), 'utf8')).toBe('a file\n');
  });

  it('the exit code is the worst: a failure in one source is exit 1, the others are copied', async () => {
    // A directory at the destination where the source has a file: that entry fails (see Limits).
    const root = await tree({ 'a/f': 'file\n', 'b/z.txt': 'z\n', 'dest/a/f/keep': 'k\n' });

    const result = await cli(['a', 'b', 'dest'], root);

    expect(result.exitCode).toBe(1);
    expect(fs.readFileSync(path.join(root, 'dest/b/z.txt'), 'utf8')).toBe('z\n');
    expect(result.stderr).toMatch(/; 0 skipped, 1 failed\n/);
  });

  it('--json prints one document: counts summed, source null, each copy in sources', async () => {
    const root = await tree({ 'a/x.txt': 'x\n', 'b/z.txt': 'zz\n' });

    const result = await cli(['--json', 'a', 'b', 'dest'], root);

    expect(result.exitCode).toBe(0);
    const document = JSON.parse(result.stdout);
    expect(document).toMatchObject({
      schemaVersion: 1,
      status: 'ok',
      exitCode: 0,
      source: null,
      sources: [
        { source: 'a', destination: path.join('dest', 'a') },
        { source: 'b', destination: path.join('dest', 'b') },
      ],
      destination: 'dest',
      bytes: 5,
      counts: { files: 2, failed: 0 },
      failures: [],
    });
  });

  it('--manifest and --log are refused with several sources', async () => {
    const root = await tree({ 'a/x.txt': 'x\n', 'b/z.txt': 'z\n' });

    const line = expectRefused(await cli(['--manifest', 'm.sha256', 'a', 'b', 'dest'], root));

    expect(line).toContain('--log and --manifest take one source');
    expect(fs.existsSync(path.join(root, 'dest'))).toBe(false);
    // --log - is the command's own log on stdout, refused the same way.
    expect(expectRefused(await cli(['--log', '-', 'a', 'b', 'dest'], root))).toContain('--log and --manifest take one source');
    expect(fs.existsSync(path.join(root, 'dest'))).toBe(false);
  });
});

describe('glob sources, as cpy-cli and copyfiles take them', () => {
  it('copies the matching files at their paths below the glob base (dotfiles too), nothing else', async () => {
    const root = await tree(BUILD);

    const result = await cli(['build/**/*.map', 'artifacts'], root);

    expect(result.exitCode).toBe(0);
    expect(contents(path.join(root, 'artifacts'))).toEqual([
      'app.js.map=map of app\n',
      'lib/',
      'lib/deep/',
      'lib/deep/.hidden.map=hidden map\n',
      'lib/util.js.map=map of util\n',
    ]);
    expect(result.stderr).toMatch(/^foldercopy: copied 3 files, \d+ directories, 0 symlinks, 34 B /m);
  });

  it('--flat copies every match into the destination itself', async () => {
    const root = await tree(BUILD);

    const result = await cli(['--flat', 'build/**/*.map', 'artifacts/'], root);

    expect(result.exitCode).toBe(0);
    expect(contents(path.join(root, 'artifacts'))).toEqual(['.hidden.map=hidden map\n', 'app.js.map=map of app\n', 'util.js.map=map of util\n']);
    expect(result.stderr).toMatch(/^foldercopy: copied 3 files, 1 directory, 0 symlinks, 34 B /m);
  });

  it('--flat refuses two matches with the same name before copying', async () => {
    const root = await tree({ 'build/x/a.map': '1\n', 'build/y/a.map': '2\n', 'build/b.map': '3\n' });

    const line = expectRefused(await cli(['--flat', 'build/**/*.map', 'artifacts'], root));

    expect(line).toBe(`foldercopy: two sources would be copied to the same name ${path.join('artifacts', 'a.map')}: build/x/a.map and build/y/a.map`);
    expect(fs.existsSync(path.join(root, 'artifacts'))).toBe(false);
  });

  it('a glob that matches nothing is refused', async () => {
    const root = await tree(BUILD);

    expect(expectRefused(await cli(['build/**/*.css', 'artifacts'], root))).toBe('foldercopy: no file matches the glob: build/**/*.css');
    expect(fs.existsSync(path.join(root, 'artifacts'))).toBe(false);
  });

  it('a glob needs a destination', async () => {
    const root = await tree(BUILD);

    expect(expectRefused(await cli(['build/*.map'], root))).toBe('foldercopy: a glob source needs a destination: build/*.map');
  });

  it('a path that exists is a path, glob characters or not', async () => {
    const root = await tree({ 'drafts[1]/a.txt': 'a\n', 'drafts1/b.txt': 'b\n' });

    expect((await cli(['drafts[1]', 'out'], root)).exitCode).toBe(0);
    expect(contents(path.join(root, 'out'))).toEqual(['a.txt=a\n']);
  });

  it('--exclude applies to the matches; globs and directories mix as several sources', async () => {
    const root = await tree({ ...BUILD, 'docs/guide.md': 'guide\n' });

    const result = await cli(['--exclude', 'deep/', 'build/**/*.map', 'docs', 'artifacts'], root);

    expect(result.exitCode).toBe(0);
    expect(contents(path.join(root, 'artifacts'))).toEqual([
      'app.js.map=map of app\n',
      'docs/',
      'docs/guide.md=guide\n',
      'lib/',
      'lib/util.js.map=map of util\n',
    ]);
  });
});

describe('--exclude-from, --files-from, --from0, as rsync reads them', () => {
  const SRC: TreeSpec = {
    'src/a.txt': 'a\n',
    'src/b.log': 'b\n',
    'src/#c.txt': 'c\n',
    'src/tmp/t.txt': 't\n',
    'src/keep/k.txt': 'k\n',
    'src/keep/more/m.txt': 'm\n',
    'src/empty/e.txt': 'e\n',
  };

  it('--exclude-from adds its patterns to --exclude; blank lines and # comments are ignored', async () => {
    const root = await tree({ ...SRC, 'ex.txt': '# logs\n*.log\n\n*/more\n' });

    const result = await cli(['--exclude-from', 'ex.txt', '--exclude', 'tmp', 'src', 'dest'], root);

    expect(result.exitCode).toBe(0);
    expect(contents(path.join(root, 'dest'))).toEqual(['#c.txt=c\n', 'a.txt=a\n', 'empty/', 'empty/e.txt=e\n', 'keep/', 'keep/k.txt=k\n']);
  });

  it('--exclude-from - reads the patterns from stdin', async () => {
    const root = await tree(SRC);

    const result = await cliWithStdin('*.txt\\n', ['--exclude-from', '-', 'src', 'dest'], root);

    expect(result.exitCode).toBe(0);
    expect(contents(path.join(root, 'dest'))).toEqual(['b.log=b\n', 'empty/', 'keep/', 'keep/more/', 'tmp/']);
  });

  it('--files-from copies only the listed paths and the directories above them; a listed directory is made empty', async () => {
    const root = await tree({ ...SRC, 'list.txt': 'a.txt\n\n#c.txt\nkeep/more/m.txt\r\nempty\n' });

    const result = await cli(['--files-from', 'list.txt', 'src', 'dest'], root);

    expect(result.exitCode).toBe(0);
    expect(contents(path.join(root, 'dest'))).toEqual(['#c.txt=c\n', 'a.txt=a\n', 'empty/', 'keep/', 'keep/more/', 'keep/more/m.txt=m\n']);
  });

  it('a listed path that does not exist fails (exit 1); the others are copied', async () => {
    const root = await tree({ ...SRC, 'list.txt': 'a.txt\nnope.txt\n' });

    const result = await cli(['--files-from', 'list.txt', 'src', 'dest'], root);

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('foldercopy: cannot stat: src/nope.txt: no such file or directory (ENOENT)');
    expect(contents(path.join(root, 'dest'))).toEqual(['a.txt=a\n']);
  });

  it('--files-from - --from0 reads NUL-separated paths from stdin, a newline in a name included', async () => {
    const root = await tree({ ...SRC, 'src/new\nline.txt': 'nl\n' });

    const result = await cliWithStdin('new\\nline.txt\\0tmp/t.txt\\0', ['--from0', '--files-from', '-', 'src', 'dest'], root);

    expect(result.exitCode).toBe(0);
    expect(contents(path.join(root, 'dest'))).toEqual(['new\nline.txt=nl\n', 'tmp/', 'tmp/t.txt=t\n']);
  });

  it('--files-from with --flat copies the listed files into the destination itself', async () => {
    const root = await tree({ ...SRC, 'list.txt': 'keep/more/m.txt\ntmp/t.txt\n' });

    const result = await cli(['--flat', '--files-from', 'list.txt', 'src', 'dest'], root);

    expect(result.exitCode).toBe(0);
    expect(contents(path.join(root, 'dest'))).toEqual(['m.txt=m\n', 't.txt=t\n']);
  });

  for (const [what, args, message] of [
    ['--files-from with --delete', ['--delete', '--files-from', 'list.txt', 'src', 'dest'], '--delete mirrors a whole tree'],
    ['a listed path out of the source', ['--files-from', 'bad.txt', 'src', 'dest'], 'a listed path must stay inside the source'],
    ['a list that cannot be read', ['--files-from', 'none.txt', 'src', 'dest'], 'cannot read the --files-from list: none.txt'],
    ['--files-from with several sources', ['--files-from', 'list.txt', 'src', 'src/keep', 'dest'], '--files-from takes one source directory'],
    ['both lists from stdin', ['--files-from', '-', '--exclude-from', '-', 'src', 'dest'], 'only one list can be read from stdin'],
    ['--flat without a glob or a list', ['--flat', 'src', 'dest'], '--flat applies to'],
  ] as const) {
    it(`refuses ${what} before copying`, async () => {
      const root = await tree({ ...SRC, 'list.txt': 'a.txt\n', 'bad.txt': 'a.txt\n../list.txt\n' });

      expect(expectRefused(await cli(args, root))).toContain(message);
      expect(fs.existsSync(path.join(root, 'dest'))).toBe(false);
    });
  }
});

describe('the library: files', () => {
  it('copies only the listed paths; a missing one is a failure', async () => {
    const root = await tree(BUILD);

    const summary = await copyFolder(path.join(root, 'build'), path.join(root, 'out'), { jobs: 1, files: ['lib/util.js', 'README', 'gone.txt'] });

    expect(contents(path.join(root, 'out'))).toEqual(['README=readme\n', 'lib/', 'lib/util.js=util\n']);
    expect(summary.files).toBe(2);
    expect(summary.failures.map(({ code, operation }) => ({ code, operation }))).toEqual([{ code: 'ENOENT', operation: 'stat' }]);
  });

  it('rejects a file list for a source that is a file, before writing anything', async () => {
    const root = await tree(BUILD);

    await expect(copyFolder(path.join(root, 'build/README'), path.join(root, 'out'), { files: ['x'] })).rejects.toThrow(FoldercopyError);
    expect(fs.existsSync(path.join(root, 'out'))).toBe(false);
  });
});
