/**
 * The names of --snapshot's directories: the UTC time the run started, sortable as
 * text and free of colons (SMB and exFAT refuse them), `2026-12-07T151900Z`, with
 * `-2`, `-3`… for a second run in the same second. Pure: which names are
 * snapshots, their order, and which --keep removes.
 */

const SNAPSHOT_NAME = /^(\d{4}-\d{2}-\d{2}T\d{6}Z)(?:-([1-9]\d*))?$/;

/** `2026-12-07T151900Z` for that instant, to the second, in UTC. */
export function snapshotStamp(now: Date): string {
  const iso = now.toISOString(); // 2026-12-07T15:19:00.123Z
  return `${iso.slice(0, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/** The stamp, or the first of its numbered forms that no entry of the directory has. */
export function freeSnapshotName(stamp: string, taken: ReadonlySet<string>): string {
  if (!taken.has(stamp)) return stamp;
  for (let n = 2; ; n++) if (!taken.has(`${stamp}-${n}`)) return `${stamp}-${n}`;
}

export function isSnapshotName(name: string): boolean {
  return SNAPSHOT_NAME.test(name);
}

/** Snapshot names, oldest first: by their time, then their number (`-10` after `-9`). */
export function oldestFirst(names: readonly string[]): string[] {
  const key = (name: string): [string, number] => {
    const match = SNAPSHOT_NAME.exec(name)!;
    return [match[1]!, match[2] === undefined ? 1 : Number(match[2])];
  };
  return names.filter(isSnapshotName).sort((a, b) => {
    const [stampA, nA] = key(a);
    const [stampB, nB] = key(b);
    return stampA < stampB ? -1 : stampA > stampB ? 1 : nA - nB;
  });
}

/** The snapshots --keep removes after `made` was completed: the oldest beyond `keep` in all, never `made` itself. */
export function expiredSnapshots(complete: readonly string[], made: string, keep: number): string[] {
  const others = oldestFirst(complete.filter((name) => name !== made));
  return others.slice(0, Math.max(0, others.length + 1 - keep));
}
