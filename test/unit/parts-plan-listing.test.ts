import { describe, expect, it } from 'vitest';
import { deletionLimit } from '../../src/delete/refusals.js';
import type { PlannedEntry } from '../../src/parts/format.js';
import { namesByDirectory, planSettings, type PlanListing } from '../../src/parts/plan-listing.js';
import { FoldercopyError } from '../../src/shared/errors.js';

function listing(options: Record<string, unknown>, paths: { directories?: string[]; entries?: string[][] } = {}): PlanListing {
  const entry = (path: string): PlannedEntry => ({ path, type: 'file', size: 1, mtimeNs: 0n, mode: 0o100644, ino: 1, nlink: 1 });
  return {
    plan: '/plan',
    header: { format: 'foldercopy-plan', version: 1, id: '0'.repeat(32), created: '', source: '/s', destination: '/d', parts: 1, options, totals: { files: 0, bytes: 0, directories: 0, symlinks: 0, other: 0 }, listing: '' },
    directories: (paths.directories ?? ['']).map((path) => ({ path, mode: 0o40755, uid: 0, gid: 0, mtimeNs: 0n, ino: 1 })),
    parts: (paths.entries ?? []).map((part) => part.map(entry)),
    source: '/s',
    destination: '/d',
  };
}

describe('planSettings', () => {
  it("reads the plan's options with a copy's defaults", () => {
    expect(planSettings(listing({}))).toEqual({ delete: false, maxDelete: undefined, xattrs: true, modifyWindow: 0, exclude: [], include: [], gitignore: false, oneFileSystem: false, hardLinks: true, files: undefined, backup: null, keptFromDelete: null });
    expect(planSettings(listing({ delete: true, maxDelete: 3, xattrs: false, exclude: ['*.log'], oneFileSystem: true }))).toMatchObject({
      delete: true,
      maxDelete: 3,
      xattrs: false,
      exclude: ['*.log'],
      oneFileSystem: true,
    });
  });

  it('refuses an option of the wrong kind, naming the plan file and the option', () => {
    expect(() => planSettings(listing({ exclude: '*.log' }))).toThrow(new FoldercopyError('PLAN_UNREADABLE', 'cannot read the plan: /plan/plan.json: the option exclude is not a list of patterns'));
    expect(() => planSettings(listing({ maxDelete: -1 }))).toThrow(/the option maxDelete is not a whole number/);
    expect(() => planSettings(listing({ delete: 'yes' }))).toThrow(/the option delete is not true or false/);
  });
});

describe('namesByDirectory', () => {
  it('gives every planned directory its names, an empty one none', () => {
    const names = namesByDirectory(listing({}, { directories: ['', 'a', 'a/b', 'empty'], entries: [['a/b/c.txt', 'top.txt'], ['a/d.txt']] }));
    expect(Object.fromEntries([...names].map(([directory, set]) => [directory, [...set].sort()]))).toEqual({
      '': ['a', 'empty', 'top.txt'],
      a: ['b', 'd.txt'],
      'a/b': ['c.txt'],
      empty: [],
    });
  });
});

describe('deletionLimit', () => {
  it('past maxDelete when given, else past half of what is there', () => {
    expect(deletionLimit(2, 10, 1)).toBe('2 entries would be deleted, more than the maxDelete option allows (1)');
    expect(deletionLimit(9, 10, 9)).toBeUndefined();
    expect(deletionLimit(5, 10, undefined)).toBeUndefined();
    expect(deletionLimit(6, 10, undefined)).toBe('6 of the 10 entries at the destination would be deleted, more than half; give the maxDelete option to allow it');
    expect(deletionLimit(0, 0, undefined)).toBeUndefined();
  });
});
