/**
 * A first copy (nothing at the destination yet) is made in a directory with a
 * temporary name beside it, `.<name>.<pid>.foldercopy-part`, and renamed into
 * place when the run ends. Entries are written at their own names inside it, so
 * no file needs a rename of its own (a fifth of the kernel's work per small
 * file), and no partial file is ever under a final name. A run killed before the
 * end leaves that directory behind: the next run adopts it and carries on from
 * what it finds there, re-checking every entry; or, when the destination exists
 * by then (a re-run), deletes it, as nothing else ever would.
 */
import fs from 'node:fs';
import { fsPath, rawFromBytes, type RawPath } from '../shared/raw-path.js';
import { tempPathFor, TEMP_NAME_SUFFIX } from '../shared/temp-name.js';
import { isRunning } from './lock.js';

export interface Staging {
  path: RawPath;
  /** Left by a killed run: what is in it may be incomplete. */
  adopted: boolean;
}

export function stage(destination: RawPath): Staging {
  const path = tempPathFor(destination, process.pid);
  const [adoptable, ...others] = staleStagings(path);
  if (adoptable === undefined) return { path, adopted: false };
  fs.renameSync(fsPath(adoptable), fsPath(path));
  for (const other of others) fs.rmSync(fsPath(other), { recursive: true, force: true });
  return { path, adopted: true };
}

/**
 * A run into an existing destination deletes the staging directories that dead
 * runs of the same copy left beside it: their copy never got into place. One it
 * cannot delete stays for a later run; this copy does not depend on it.
 */
export function removeStaleStagings(destination: RawPath): void {
  for (const stale of staleStagings(tempPathFor(destination, process.pid))) {
    try {
      fs.rmSync(fsPath(stale), { recursive: true, force: true });
    } catch {
      // Left for a later run.
    }
  }
}

export function unstage(stagingPath: RawPath, destination: RawPath): void {
  fs.renameSync(fsPath(stagingPath), fsPath(destination));
}

/** Staging directories of runs of the same copy whose process is gone. */
function staleStagings(ours: RawPath): RawPath[] {
  const directory = ours.slice(0, ours.lastIndexOf('/') + 1);
  const name = ours.slice(directory.length);
  // Our own name with another pid: `.<name>.` + digits + suffix.
  const prefix = name.slice(0, name.length - TEMP_NAME_SUFFIX.length).replace(/\d+$/, '');
  let names: Buffer[];
  try {
    names = fs.readdirSync(fsPath(directory || '.'), { encoding: 'buffer' });
  } catch {
    return [];
  }
  const stale: RawPath[] = [];
  for (const bytes of names) {
    const candidate = rawFromBytes(bytes);
    if (!candidate.startsWith(prefix) || !candidate.endsWith(TEMP_NAME_SUFFIX)) continue;
    const pid = candidate.slice(prefix.length, candidate.length - TEMP_NAME_SUFFIX.length);
    // A live process with that pid may be another run copying to the same place: leave its directory alone.
    if (!/^\d+$/.test(pid) || isRunning(Number(pid))) continue;
    const path = directory + candidate;
    if (fs.lstatSync(fsPath(path), { throwIfNoEntry: false })?.isDirectory()) stale.push(path);
  }
  return stale;
}
