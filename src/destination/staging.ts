/**
 * A first copy (nothing at the destination yet) is made in a directory with a
 * temporary name beside it, `.<name>.<pid>.foldercopy-part`, and renamed into
 * place when the run ends. Entries are written at their own names inside it, so
 * no file needs a rename of its own (a fifth of the kernel's work per small
 * file), and no partial file is ever under a final name. A run killed before the
 * end leaves that directory behind: the next run adopts it and carries on from
 * what it finds there, re-checking every entry; or, when the destination exists
 * by then (a re-run), deletes it, as nothing else ever would.
 *
 * The directory beside the destination may be shared with other users (a sticky
 * /tmp, a group-writable backup share), who can plant anything at these names.
 * So the staging directory is made here with mkdir, mode 700 until the end, and
 * one found beside the destination is adopted or deleted only when it is ours:
 * a real directory, owned by the user who runs the copy, that no one else can
 * write into, named for a run that is gone. Anything else at such a name is left
 * alone and reported, and the copy takes a fresh name.
 */
import fs from 'node:fs';
import { fsPath, pathText, rawFromBytes, type RawPath } from '../shared/raw-path.js';
import { stagingPathFor, stagingPidOf, tempPathFor } from '../shared/names-on-disk.js';
import { runIdentity, userName } from './run-identity.js';

export interface Staging {
  path: RawPath;
  /** Left by a killed run: what is in it may be incomplete. */
  adopted: boolean;
}

/** Told of each thing found at a staging name that is not ours: what it is, and where. */
export type OnIgnored = (message: string, path: RawPath) => void;

// Writable only by the run's user until finalize() gives the root its mode.
const STAGING_MODE = 0o700;
// Fresh names tried when something not ours holds the one with our pid.
const MAX_NAMES = 8;

/** Staging directories this process is making now: for the CLI's word on a second Ctrl-C. */
const active = new Set<RawPath>();

/**
 * The staging directories of the first copies this process is making now (lossless text): where a program that
 * exits mid-copy leaves them. The next copy to the same destination adopts such a directory and carries on.
 */
export function stagedCopies(): string[] {
  return [...active].map(pathText);
}

export function stage(destination: RawPath, onIgnored: OnIgnored): Staging {
  const { stale, foreign } = scanStagings(destination, onIgnored);
  const [adoptable, ...others] = stale;
  for (const other of others) removeQuietly(other);
  for (let attempt = 0; attempt < MAX_NAMES; attempt++) {
    const path = stagingPathFor(destination, process.pid, attempt);
    try {
      if (adoptable === undefined) fs.mkdirSync(fsPath(path), STAGING_MODE);
      // Over an empty directory planted at our name, rename replaces it; over anything else it fails.
      else fs.renameSync(fsPath(adoptable), fsPath(path));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY' && code !== 'ENOTDIR') throw error;
      // Said once: the scan has named what was there before it.
      if (!foreign.has(path)) onIgnored(`left alone ${describe(path)}, at the name of this run's staging directory`, path);
      continue;
    }
    active.add(path);
    return { path, adopted: adoptable !== undefined };
  }
  throw Object.assign(new Error('no free name for a staging directory'), { code: 'EEXIST' });
}

/**
 * A run into an existing destination deletes the staging directories that dead
 * runs of the same copy left beside it: their copy never got into place. One it
 * cannot delete stays for a later run; this copy does not depend on it.
 */
export function removeStaleStagings(destination: RawPath, onIgnored: OnIgnored): void {
  for (const stale of scanStagings(destination, onIgnored).stale) removeQuietly(stale);
}

export function unstage(stagingPath: RawPath, destination: RawPath): void {
  fs.renameSync(fsPath(stagingPath), fsPath(destination));
  active.delete(stagingPath);
}

/** Our staging directories of runs of the same copy whose process is gone; what only looks like one is reported, as `foreign`. */
function scanStagings(destination: RawPath, onIgnored: OnIgnored): { stale: RawPath[]; foreign: Set<RawPath> } {
  const beside = tempPathFor(destination, 0);
  const directory = beside.slice(0, beside.lastIndexOf('/') + 1);
  let names: Buffer[];
  try {
    names = fs.readdirSync(fsPath(directory || '.'), { encoding: 'buffer' });
  } catch {
    return { stale: [], foreign: new Set() };
  }
  const stale: RawPath[] = [];
  const foreign = new Set<RawPath>();
  for (const bytes of names) {
    const path = directory + rawFromBytes(bytes);
    const pid = stagingPidOf(destination, path);
    if (pid === undefined) continue;
    const stats = fs.lstatSync(fsPath(path), { throwIfNoEntry: false });
    if (stats === undefined) continue;
    if (!isOurs(stats)) {
      foreign.add(path);
      onIgnored(`left alone ${describe(path, stats)}, not a staging directory of this user's`, path);
    }
    // A live process with that pid may be another run copying to the same place: leave its directory alone.
    else if (runIdentity(pid) === undefined) stale.push(path);
  }
  return { stale, foreign };
}

/** Made by a run of this user, and no one else could have put anything in it. */
function isOurs(stats: fs.Stats): boolean {
  return stats.isDirectory() && stats.uid === process.geteuid?.() && (stats.mode & 0o022) === 0;
}

function describe(path: RawPath, stats = fs.lstatSync(fsPath(path), { throwIfNoEntry: false })): string {
  if (stats === undefined) return 'an entry';
  if (!stats.isDirectory()) return stats.isSymbolicLink() ? 'a symlink' : 'a file';
  if (stats.uid !== process.geteuid?.()) return `a directory of user ${userName(stats.uid)}`;
  return 'a directory others can write to';
}

function removeQuietly(path: RawPath): void {
  try {
    fs.rmSync(fsPath(path), { recursive: true, force: true });
  } catch {
    // Left for a later run.
  }
}
