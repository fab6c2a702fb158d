// Stats looked up ahead, many at once (src/source/stats-ahead.ts, for a tree on a network file system): the same
// answers as one lookup at a time (src/source/tree-stats.ts), a failure for what is not there, and a late lookup
// for a path not asked ahead.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorRecord } from '../../src/shared/errors.js';
import { statsAhead } from '../../src/source/stats-ahead.js';
import { kindOf, treeStats } from '../../src/source/tree-stats.js';

let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'stats-ahead-'));
  fs.mkdirSync(path.join(root, 'd'));
  fs.writeFileSync(path.join(root, 'd', 'a.txt'), 'hello');
  fs.symlinkSync('a.txt', path.join(root, 'd', 'link'));
  fs.writeFileSync(path.join(root, 'late.txt'), 'x'.repeat(10));
});

afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('statsAhead', () => {
  it('answers as a lookup at a time does, for the root, a directory, a file and a symlink (not followed)', async () => {
    const paths = ['', 'd', 'd/a.txt', 'd/link'];
    const ahead = await statsAhead(root, paths);
    const oneByOne = treeStats(root);
    for (const relative of paths) {
      const failures: ErrorRecord[] = [];
      const stats = ahead.at(relative, failures);
      expect(failures).toEqual([]);
      const { mode, uid, gid, size, nlink, mtimeNs, ino, dev } = oneByOne.at(relative, [])!;
      expect(stats).toEqual({ mode, uid, gid, size, nlink, mtimeNs, ino, dev });
    }
    expect(kindOf(ahead.at('d/link', [])!.mode)).toBe('symlink');
    expect(ahead.at('d/a.txt', [])!.size).toBe(5);
    ahead.close();
    oneByOne.close();
  });

  it('gives the failure of a path that is not there, with its code, and looks up late a path not asked ahead', async () => {
    const ahead = await statsAhead(root, ['d/gone', 'd/a.txt/below']);
    const failures: ErrorRecord[] = [];
    expect(ahead.at('d/gone', failures)).toBeUndefined();
    expect(ahead.at('d/a.txt/below', failures)).toBeUndefined();
    expect(failures.map((failure) => failure.code)).toEqual(['ENOENT', 'ENOTDIR']);
    expect(ahead.at('late.txt', [])!.size).toBe(10);
    ahead.close();
  });
});
