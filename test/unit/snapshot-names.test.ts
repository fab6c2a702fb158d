import { describe, expect, it } from 'vitest';
import { expiredSnapshots, freeSnapshotName, isSnapshotName, oldestFirst, snapshotStamp } from '../../src/run/snapshot-names.js';

describe('snapshot names', () => {
  it('are the UTC second, sortable, without colons', () => {
    expect(snapshotStamp(new Date('2026-12-07T15:19:00.999Z'))).toBe('2026-12-07T151900Z');
    expect(snapshotStamp(new Date('2027-01-02T03:04:05+02:00'))).toBe('2027-01-02T010405Z');
  });

  it('are numbered when a second run falls in the same second', () => {
    expect(freeSnapshotName('2026-12-07T151900Z', new Set())).toBe('2026-12-07T151900Z');
    expect(freeSnapshotName('2026-12-07T151900Z', new Set(['2026-12-07T151900Z', '2026-12-07T151900Z-2']))).toBe('2026-12-07T151900Z-3');
  });

  it('tell snapshots from other names', () => {
    expect(isSnapshotName('2026-12-07T151900Z')).toBe(true);
    expect(isSnapshotName('2026-12-07T151900Z-12')).toBe(true);
    for (const name of ['latest', '.2026-12-07T151900Z.foldercopy-snapshot', '2026-12-07T15:19:00Z', '2026-12-07T151900Z-0', '2026-12-07T151900Z-x', 'notes']) {
      expect(isSnapshotName(name), name).toBe(false);
    }
  });

  it('sort by time, then by number', () => {
    const names = ['2026-12-08T000000Z', '2026-12-07T151900Z-10', 'latest', '2026-12-07T151900Z', '2026-12-07T151900Z-9'];
    expect(oldestFirst(names)).toEqual(['2026-12-07T151900Z', '2026-12-07T151900Z-9', '2026-12-07T151900Z-10', '2026-12-08T000000Z']);
  });

  it('expire the oldest beyond keep, never the one just made', () => {
    const complete = ['2026-12-05T000000Z', '2026-12-06T000000Z', '2026-12-04T000000Z'];
    expect(expiredSnapshots(complete, '2026-12-07T000000Z', 2)).toEqual(['2026-12-04T000000Z', '2026-12-05T000000Z']);
    expect(expiredSnapshots(complete, '2026-12-07T000000Z', 10)).toEqual([]);
    // A clock set back: the snapshot just made sorts first, and stays.
    expect(expiredSnapshots(complete, '2026-12-01T000000Z', 1)).toEqual(complete.slice().sort());
  });
});
