/**
 * Every name foldercopy itself puts on disk, built and recognised here: the
 * temporary name a file is written under, the staging directory of a first copy,
 * the lock beside the destination, the case probe, the manifest's temporary
 * name; and the manifest's hash state, named after the manifest the user chose
 * (outside both trees). Each other is hidden (a leading dot) and ends in a suffix that says whose it
 * is, so a later run, a sweep or a --delete pass can tell ours from the user's.
 * Temporary names carry the writer's pid: the parent sweeps a dead worker's,
 * and a later run knows a staging directory whose run is gone.
 */
import { sep } from 'node:path';
import type { RawPath } from './raw-path.js';

const TEMP_NAME_SUFFIX = '.foldercopy-part';
const LOCK_NAME_SUFFIX = '.foldercopy-lock';
// Leaves room for the dot, the pid and the suffix within the usual 255-byte name limit.
const MAX_NAME_BYTES_KEPT = 200;

/** `.<name>.<pid>.foldercopy-part`, which staging directories and the probe match too. */
const TEMP_NAME = /^\..*\.\d+\.foldercopy-part$/s;
/** `.<name>.foldercopy-lock`. */
const LOCK_NAME = /^\..*\.foldercopy-lock$/s;

/** `.<name>.<pid>.foldercopy-part` beside `finalPath`: where a file is written until it is complete. */
export function tempPathFor(finalPath: RawPath, pid: number): RawPath {
  const nameStart = Math.max(finalPath.lastIndexOf('/'), finalPath.lastIndexOf(sep)) + 1;
  const name = finalPath.slice(nameStart, nameStart + MAX_NAME_BYTES_KEPT);
  return `${finalPath.slice(0, nameStart)}.${name}.${pid}${TEMP_NAME_SUFFIX}`;
}

/**
 * Where a worker writes an entry: under its temporary name, or, when the whole
 * tree is staged under a temporary directory name (WorkerSettings.staged), at its
 * name inside it, with nothing to rename.
 */
export function writingPathFor(finalPath: RawPath, pid: number, staged: boolean): RawPath {
  return staged ? finalPath : tempPathFor(finalPath, pid);
}

/** A temporary name of a run's (a file's, a staging directory's, a probe's): the suffix first, as most names fail there. */
export function isTempName(name: string): boolean {
  return name.endsWith(TEMP_NAME_SUFFIX) && TEMP_NAME.test(name);
}

/** Ours, not the user's: a temporary name or a lock, which belong to runs in progress (this one's or another's). */
export function isOurName(name: string): boolean {
  return isTempName(name) || LOCK_NAME.test(name);
}

/** Anything ending in one of our suffixes, well formed or not: what no run may leave behind. */
export function endsLikeOurName(name: string): boolean {
  return name.endsWith(TEMP_NAME_SUFFIX) || name.endsWith(LOCK_NAME_SUFFIX);
}

/** A temporary name's parts: the final name it stands for and the writer's pid; undefined for any other name. */
export function parseTempName(name: string): { finalName: string; pid: number } | undefined {
  const match = /^\.(.*)\.(\d+)\.foldercopy-part$/s.exec(name);
  return match ? { finalName: match[1]!, pid: Number(match[2]) } : undefined;
}

/** The staging directory of a first copy: `.<name>.<pid>.foldercopy-part`, then `.<name>.<pid>.<n>.foldercopy-part`. */
export function stagingPathFor(destination: RawPath, pid: number, attempt: number): RawPath {
  const path = tempPathFor(destination, pid);
  if (attempt === 0) return path;
  return `${path.slice(0, -TEMP_NAME_SUFFIX.length)}.${attempt}${TEMP_NAME_SUFFIX}`;
}

/** The pid in `path` when it is a staging directory's name for `destination` (any run's, any attempt). */
export function stagingPidOf(destination: RawPath, path: RawPath): number | undefined {
  // `.<name>.` + a pid (and a fresh name's number) + the suffix.
  const prefix = tempPathFor(destination, 0).slice(0, -`0${TEMP_NAME_SUFFIX}`.length);
  if (!path.startsWith(prefix) || !path.endsWith(TEMP_NAME_SUFFIX)) return undefined;
  const pid = /^(\d+)(?:\.\d+)?$/.exec(path.slice(prefix.length, -TEMP_NAME_SUFFIX.length))?.[1];
  return pid === undefined ? undefined : Number(pid);
}

/** `.<name>.foldercopy-lock` beside the destination. */
export function lockPathFor(destination: RawPath): RawPath {
  const nameStart = destination.lastIndexOf('/') + 1;
  const name = destination.slice(nameStart, nameStart + MAX_NAME_BYTES_KEPT);
  return `${destination.slice(0, nameStart)}.${name}${LOCK_NAME_SUFFIX}`;
}

/** Where a stale lock is moved while it is checked: a name no other run would take. */
export function lockAsidePathFor(lockPath: RawPath, pid: number): RawPath {
  return `${lockPath}.${pid}`;
}

/**
 * The case probe's name, and the two variants it is looked up under: one with
 * another case, one with another normalization of its é. It is a temporary
 * name, so a probe left by a killed run is swept like one.
 */
export function probeNameFor(pid: number, variant: 'probe' | 'otherCase' | 'otherNormalization'): string {
  const head = variant === 'otherCase' ? 'p' : 'P';
  const e = variant === 'otherNormalization' ? 'e\u0301' : '\u00e9';
  return `.foldercopy-${head}robe-${e}.${pid}${TEMP_NAME_SUFFIX}`;
}

/** The manifest's hash state (run/hash-state-file.ts): a sidecar, so the manifest stays `sha256sum -c` input. */
export function hashStatePathFor(manifest: string): string {
  return `${manifest}.foldercopy-state`;
}

/** The manifest (or its state) while it is written, renamed to `path` when complete. */
export function manifestTempPathFor(path: string, pid: number): string {
  return `${path}.${pid}${TEMP_NAME_SUFFIX}`;
}

/**
 * A snapshot being made (--snapshot), `.<name>.foldercopy-snapshot` in the directory of snapshots: renamed to its
 * name only once its copy is complete, so no incomplete snapshot ever has a snapshot's name.
 */
export function snapshotWorkNameFor(name: string): string {
  return `.${name}.foldercopy-snapshot`;
}

/** An old snapshot that --keep removes is first renamed to this: one removed halfway never passes for a snapshot. */
export function expiredSnapshotNameFor(name: string): string {
  return `.${name}.foldercopy-expired`;
}
