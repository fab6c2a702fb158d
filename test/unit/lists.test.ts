// --exclude-from and --files-from as rsync reads them, and the library's file list (selection.ts).
import { describe, expect, it } from 'vitest';
import { excludePatterns, listedPaths, listItems } from '../../src/cli/lists.js';
import { FoldercopyError } from '../../src/shared/errors.js';
import { pathBytes } from '../../src/shared/raw-path.js';
import { selectionOf } from '../../src/source/selection.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

describe('listItems', () => {
  it('splits on LF, drops a CR before it, keeps an unterminated last line', () => {
    expect(listItems(bytes('a\r\nb\n\nc'), false).map(String)).toEqual(['a', 'b', '', 'c']);
  });

  it('with from0, splits on NUL only: a newline is part of a name', () => {
    expect(listItems(bytes('a\nb\0c\r\0'), true).map(String)).toEqual(['a\nb', 'c\r']);
  });
});

describe('excludePatterns', () => {
  it('ignores blank lines and # comments, keeps everything else as it is', () => {
    expect(excludePatterns(bytes('# build output\n*.log\n\n   \nnode_modules\n #not a comment\n'), false)).toEqual([
      '*.log',
      'node_modules',
      ' #not a comment',
    ]);
  });
});

describe('listedPaths', () => {
  it('ignores only empty lines: # and spaces are parts of names', () => {
    expect(listedPaths(bytes('a.txt\n\n#notes\n sp\n'), false)).toEqual(['a.txt', '#notes', ' sp']);
  });

  it('keeps the exact bytes of a name that is not UTF-8 (lossless text)', () => {
    const name = Buffer.from([0x63, 0x61, 0x66, 0xe8]);
    const [path] = listedPaths(Buffer.concat([name, Buffer.from([0])]), true);
    expect(pathBytes(path!)).toEqual(name);
  });
});

describe('selectionOf', () => {
  it('groups the paths by directory, every directory above a path included', () => {
    const { names } = selectionOf(['a/b/x.map', './top.map', 'a//y.js', 'a/b/x.map', 'c/'], false);
    expect(Object.fromEntries([...names].map(([directory, set]) => [directory, [...set].sort()]))).toEqual({
      '': ['a', 'c', 'top.map'],
      a: ['b', 'y.js'],
      'a/b': ['x.map'],
    });
  });

  for (const [what, path] of [
    ['an absolute path', '/etc/passwd'],
    ['a path out of the source', 'a/../../x'],
    ['the source itself', './'],
    ['a NUL byte', 'a\0b'],
  ] as const) {
    it(`refuses ${what}`, () => {
      expect(() => selectionOf(['ok.txt', path], false)).toThrow(FoldercopyError);
    });
  }
});
