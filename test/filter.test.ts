// The tree filter (--exclude, --include, --gitignore) on real directories: a small walker reads each directory
// as walk.ts does (raw names), asks admit() what to keep, and descends only into kept directories, so an entry
// missing from the lists below was either dropped or never reached.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FoldercopyError } from '../src/shared/errors.js';
import { bytesFromRaw, rawFromBytes, rawFromString } from '../src/shared/raw-path.js';
import { TreeFilter, type FilterOptions } from '../src/source/filter.js';
import { NON_UTF8_NAME, useTempDirs, writeTree, type TreeSpec } from './helpers/tree.js';

const tempDir = useTempDirs();

async function makeTree(spec: TreeSpec): Promise<string> {
  const root = await tempDir();
  await writeTree(root, spec);
  return root;
}

function readRawDirectory(root: string, relativeDir: string): fs.Dirent[] {
  const dir = Buffer.concat([Buffer.from(root), bytesFromRaw(relativeDir === '' ? '' : `/${relativeDir}`)]);
  const dirents = fs.readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
  for (const dirent of dirents) (dirent as unknown as { name: string }).name = rawFromBytes(dirent.name);
  return dirents as unknown as fs.Dirent[];
}

/** Every entry the filter keeps, as raw relative paths (directories with a trailing '/'), sorted. */
function keptPaths(root: string, filter: TreeFilter): string[] {
  const kept: string[] = [];
  const visit = (relativeDir: string): void => {
    for (const dirent of filter.admit(relativeDir, readRawDirectory(root, relativeDir))) {
      const path = relativeDir === '' ? dirent.name : `${relativeDir}/${dirent.name}`;
      if (dirent.isDirectory()) {
        kept.push(`${path}/`);
        visit(path);
      } else {
        kept.push(path);
      }
    }
  };
  visit('');
  return kept.sort();
}

function filterOf(root: string, options: FilterOptions): TreeFilter {
  const filter = TreeFilter.create(root, options);
  if (filter === null) throw new Error('expected a filter');
  return filter;
}

async function kept(spec: TreeSpec, options: FilterOptions): Promise<string[]> {
  const root = await makeTree(spec);
  return keptPaths(root, filterOf(root, options));
}

describe('TreeFilter.create', () => {
  it('returns null when nothing is filtered, and a filter otherwise', () => {
    expect(TreeFilter.create('.', {})).toBeNull();
    expect(TreeFilter.create('.', { exclude: [], include: [], gitignore: false })).toBeNull();
    expect(TreeFilter.create('.', { gitignore: true })?.hasIncludes).toBe(false);
    expect(TreeFilter.create('.', { exclude: ['x'] })?.hasIncludes).toBe(false);
    expect(TreeFilter.create('.', { include: ['*.js'] })?.hasIncludes).toBe(true);
  });

  it.each([
    [{ exclude: ['ok', ''] }, 'invalid pattern "" in the exclude option: it is empty'],
    [{ exclude: ['./'] }, 'invalid pattern "./" in the exclude option: it names no path'],
    [{ include: ['/'] }, 'invalid pattern "/" in the include option: it names no path'],
    [{ exclude: ['[z-a].txt'] }, /^invalid pattern "\[z-a\]\.txt" in the exclude option: Invalid regular expression.*Range out of order/],
    [{ include: ['src/'] }, 'invalid pattern "src/" in the include option: an include pattern selects files, not directories; "src/**" selects the files under src'],
  ] as const)('refuses %j with a usage error naming the pattern', (options, message) => {
    let thrown: unknown;
    try {
      TreeFilter.create('.', options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(FoldercopyError);
    expect(thrown).toMatchObject({ code: 'USAGE' });
    if (typeof message === 'string') expect((thrown as Error).message).toBe(message);
    else expect((thrown as Error).message).toMatch(message);
  });
});

describe('glob patterns', () => {
  it('match a pattern without a slash against the name, at any depth', async () => {
    const result = await kept(
      {
        'a.log': 'x',
        'logs.txt': 'x',
        'src/b.log': 'x',
        'src/c.txt': 'x',
        'src/deep/d.log': 'x',
        'node_modules/x.js': 'x',
        'src/node_modules/y.js': 'x',
        'src/node_modules.txt': 'x',
      },
      { exclude: ['node_modules', '*.log'] },
    );
    expect(result).toEqual(['logs.txt', 'src/', 'src/c.txt', 'src/deep/', 'src/node_modules.txt']);
  });

  it('match a pattern with a slash, or a leading / or ./, against the whole path from the root', async () => {
    const result = await kept(
      {
        TODO: 'x',
        'sub/TODO': 'x',
        'a.tmp': 'x',
        'src/a.tmp': 'x',
        'src/deep/b.tmp': 'x',
        'docs/draft.md': 'x',
        'docs/final.md': 'x',
        'other/docs/draft.md': 'x',
      },
      { exclude: ['/TODO', 'src/*.tmp', './docs/draft.md'] },
    );
    expect(result).toEqual([
      'a.tmp',
      'docs/',
      'docs/final.md',
      'other/',
      'other/docs/',
      'other/docs/draft.md',
      'src/',
      'src/deep/',
      'src/deep/b.tmp',
      'sub/',
      'sub/TODO',
    ]);
  });

  // The excluded directories hold files matching --include: had the walk gone in, they would be listed.
  it.each([
    [['build/**'], ['a.js', 'lib/', 'lib/build/', 'lib/build/z.js']],
    [['build'], ['a.js', 'lib/']],
    [['/build/'], ['a.js', 'lib/', 'lib/build/', 'lib/build/z.js']],
    [['**/build/**'], ['a.js', 'lib/']],
  ])('exclude %j: the directory itself is left out and not descended into', async (exclude, expected) => {
    const spec = { 'a.js': 'x', 'build/x.js': 'x', 'build/sub/y.js': 'x', 'lib/build/z.js': 'x' };
    expect(await kept(spec, { exclude, include: ['*.js'] })).toEqual(expected);
  });

  it('with a trailing slash, exclude directories only', async () => {
    const result = await kept({ 'cache/a': 'x', 'src/cache/b': 'x', 'src/deep/cache': 'a file' }, { exclude: ['cache/'] });
    expect(result).toEqual(['src/', 'src/deep/', 'src/deep/cache']);
  });

  it('match dotfiles and dot-directories like any other name', async () => {
    const spec = {
      '.cache/a.md': 'x',
      '.github/README.md': 'x',
      '.notes.md': 'x',
      'x.md': 'x',
      'x.txt': 'x',
      '.md': 'x',
    };
    expect(await kept(spec, { exclude: ['.cache'], include: ['*.md'] })).toEqual(['.github/', '.github/README.md', '.md', '.notes.md', 'x.md']);
    expect(await kept(spec, { exclude: ['.*'] })).toEqual(['x.md', 'x.txt']);
  });

  it('with --include, keep only matching files and still descend into every directory', async () => {
    const result = await kept(
      { 'a.js': 'x', 'a.ts': 'x', 'src/b.js': 'x', 'src/c.json': 'x', empty: { type: 'dir' }, 'nothing/x.md': 'x', 'app/js': 'x' },
      { include: ['*.js', 'app/**'] },
    );
    expect(result).toEqual(['a.js', 'app/', 'app/js', 'empty/', 'nothing/', 'src/', 'src/b.js']);
  });

  it('apply --include to symlinks as to files', async () => {
    const result = await kept(
      [
        { path: 'dir/x.js', type: 'file' },
        { path: 'to-dir', type: 'symlink', target: 'dir' },
        { path: 'link.js', type: 'symlink', target: 'dir/x.js' },
      ],
      { include: ['*.js'] },
    );
    expect(result).toEqual(['dir/', 'dir/x.js', 'link.js']);
  });

  it('let --exclude win over --include', async () => {
    const result = await kept(
      { 'a.js': 'x', 'vendor.js': 'x', 'legacy/old.js': 'x', 'src/min/c.js': 'x', 'src/d.js': 'x' },
      { include: ['*.js'], exclude: ['vendor.js', 'legacy/', 'src/min'] },
    );
    expect(result).toEqual(['a.js', 'src/', 'src/d.js']);
  });

  it('read [!…] as a negated class, and a leading ! as a plain character', async () => {
    const spec = { 'a.txt': 'x', 'b.txt': 'x', '!c.txt': 'x' };
    expect(await kept(spec, { exclude: ['[!a]*'] })).toEqual(['a.txt']);
    expect(await kept(spec, { exclude: ['!c.txt'] })).toEqual(['a.txt', 'b.txt']);
  });

  it('match non-ASCII patterns and names byte for byte, non-UTF-8 names included', async () => {
    const spec: TreeSpec = [
      { path: 'caf\u00e9.txt', type: 'file' },
      { path: 'cafe.txt', type: 'file' },
      { path: NON_UTF8_NAME, type: 'file' },
      { path: 'with\nnewline.log', type: 'file' },
    ];
    expect(await kept(spec, { exclude: ['caf\u00e9*'] })).toEqual(['cafe.txt', rawFromBytes(NON_UTF8_NAME), rawFromString('with\nnewline.log')].sort());
    expect(await kept(spec, { include: ['bytes-*', 'with\n*'] })).toEqual([rawFromBytes(NON_UTF8_NAME), rawFromString('with\nnewline.log')].sort());
  });

  it('return the very array given when nothing is dropped', async () => {
    const root = await makeTree({ 'a.txt': 'x', 'b.txt': 'x' });
    const dirents = readRawDirectory(root, '');
    expect(filterOf(root, { exclude: ['*.log'] }).admit('', dirents)).toBe(dirents);
    expect(filterOf(root, { exclude: ['b.txt'] }).admit('', dirents).map((dirent) => dirent.name)).toEqual(['a.txt']);
  });
});

describe('--gitignore', () => {
  it('honours nested .gitignore files as git does', async () => {
    const result = await kept(
      {
        // Case-sensitive, as git is on Linux: Notes.txt does not ignore notes.txt.
        '.gitignore': '# comment\n*.log\n!keep.log\nbuild/\n/top-only.txt\nNotes.txt\n',
        'a.log': 'x',
        'keep.log': 'x',
        'top-only.txt': 'x',
        'notes.txt': 'x',
        'build/out.js': 'x',
        // Re-included by the root's !keep.log, but inside an ignored directory: never reached, as in git.
        'build/keep.log': 'x',
        'lib/build': 'a file, not a directory',
        'lib/top-only.txt': 'x',
        'lib/x.log': 'x',
        // A deeper file overrides a shallower one, directories included.
        'sub/.gitignore': '!debug.log\n!build/\n*.txt\n',
        'sub/debug.log': 'x',
        'sub/other.log': 'x',
        'sub/build/x.c': 'x',
        'sub/notes.txt': 'x',
        'sub/deeper/more.txt': 'x',
        'sub/deeper/.gitignore': '/only-here\n!*.txt\n',
        'sub/deeper/again.txt': 'x',
        'sub/deeper/only-here': 'x',
        'sub/deeper/d/only-here': 'x',
        '.git/config': 'not special',
      },
      { gitignore: true },
    );
    expect(result).toEqual([
      '.git/',
      '.git/config',
      '.gitignore',
      'keep.log',
      'lib/',
      'lib/build',
      'lib/top-only.txt',
      'notes.txt',
      'sub/',
      'sub/.gitignore',
      'sub/build/',
      'sub/build/x.c',
      'sub/debug.log',
      'sub/deeper/',
      'sub/deeper/.gitignore',
      'sub/deeper/again.txt',
      'sub/deeper/d/',
      'sub/deeper/d/only-here',
      'sub/deeper/more.txt',
    ]);
  });

  it('reads .gitignore files with CRLF line ends and a byte order mark', async () => {
    const result = await kept(
      {
        '.gitignore': '\uFEFF*.tmp\r\n!keep.tmp\r\nbuild/\r\n',
        'a.tmp': 'x',
        'keep.tmp': 'x',
        'build/x': 'x',
        'sub/.gitignore': 'x.txt\r\n',
        'sub/x.txt': 'x',
        'sub/y.txt': 'x',
      },
      { gitignore: true },
    );
    expect(result).toEqual(['.gitignore', 'keep.tmp', 'sub/', 'sub/.gitignore', 'sub/y.txt']);
  });

  it('applies the rules of a directory whose name holds glob characters to that directory only', async () => {
    const result = await kept(
      {
        'a[1]/.gitignore': '*.o\n/x/y\n',
        'a[1]/m.o': 'x',
        'a[1]/x/y': 'x',
        'a1/m.o': 'x',
        '#!*/.gitignore': 'z\n',
        '#!*/z': 'x',
        'other/z': 'x',
      },
      { gitignore: true },
    );
    expect(result).toEqual(['#!*/', '#!*/.gitignore', 'a1/', 'a1/m.o', 'a[1]/', 'a[1]/.gitignore', 'a[1]/x/', 'other/', 'other/z']);
  });

  it('matches rules byte for byte against non-UTF-8 names', async () => {
    const pattern = Buffer.concat([NON_UTF8_NAME.subarray(0, 7), Buffer.from('*\n')]);
    const result = await kept(
      [
        { path: '.gitignore', type: 'file', content: pattern },
        { path: NON_UTF8_NAME, type: 'file' },
        { path: 'bytes-other.bin', type: 'file' },
      ],
      { gitignore: true },
    );
    expect(result).toEqual(['.gitignore', 'bytes-other.bin']);
  });

  it('combines with --exclude and --include, each able to leave an entry out', async () => {
    const result = await kept(
      { '.gitignore': '*.log\n', 'a.js': 'x', 'b.log': 'x', 'c.js': 'x', 'd.md': 'x' },
      { gitignore: true, exclude: ['c.js'], include: ['*.js', '*.log', '.gitignore'] },
    );
    expect(result).toEqual(['.gitignore', 'a.js']);
  });
});

describe('excludes (for --delete)', () => {
  it('answers for destination-only paths with the globs and the .gitignore rules of their nearest read ancestor', async () => {
    const root = await makeTree({
      '.gitignore': '*.log\nbuild/\n',
      'sub/.gitignore': '!debug.log\n*.txt\n',
      'sub/kept.md': 'x',
    });
    const filter = filterOf(root, { gitignore: true, exclude: ['node_modules'], include: ['*.md', '*.log', '*.txt', 'build'] });
    expect(keptPaths(root, filter)).toEqual(['sub/', 'sub/kept.md']);
    const cases: Array<[string, boolean, boolean]> = [
      ['', true, false],
      ['gone.md', false, false],
      ['gone.log', false, true],
      ['gone.js', false, true], // not included
      ['gone-dir', true, false], // --include never applies to directories
      ['build', true, true],
      ['build/inside.md', false, true], // through its ancestor
      ['build', false, false], // build/ is for directories only
      ['a/node_modules/x.md', false, true],
      ['sub/gone/debug.log', false, false],
      ['sub/gone/other.log', false, true],
      ['sub/gone/notes.txt', false, true],
      ['other/notes.txt', false, false],
    ];
    expect(cases.map(([path, isDirectory]) => filter.excludes(path, isDirectory))).toEqual(cases.map(([, , excluded]) => excluded));
  });
});
