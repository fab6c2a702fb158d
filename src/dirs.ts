/**
 * Destination directories. The parent makes each one as soon as it is listed, so
 * its files can be dispatched; and it sets their mode, owner and times only at
 * the end, deepest first, because writing the files changes a directory's mtime
 * and a read-only mode would stop them being written at all.
 */
import fs from 'node:fs';
import type { OwnerPolicy } from './plan.js';
import { ownerFor } from './plan.js';
import { errorRecord, type ErrorRecord, type Owner, type Seconds } from './protocol.js';
import { fsPath, joinRaw, rawFromBytes, type RawPath } from './raw-path.js';
import { TEMP_NAME } from './temp-name.js';
import type { Entry } from './entry.js';

interface MadeDirectory {
  path: RawPath;
  mode: number;
  atime: Seconds;
  mtime: Seconds;
  owner: Owner | undefined;
}

const OWNER_RWX = 0o700;

export class DestinationDirectories {
  private readonly made: MadeDirectory[] = [];
  /** Relative paths of directories that could not be made: nothing is written beneath them. */
  private readonly broken = new Set<RawPath>();

  constructor(
    private readonly destination: RawPath,
    private readonly policy: OwnerPolicy,
  ) {}

  make(entry: Entry): ErrorRecord | null {
    const path = joinRaw(this.destination, entry.path);
    try {
      fs.mkdirSync(fsPath(path), OWNER_RWX);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return this.markBroken(entry, error, path);
      try {
        this.reuse(entry, path);
      } catch (reuseError) {
        return this.markBroken(entry, reuseError, path);
      }
    }
    this.made.push({ path, mode: entry.mode, atime: entry.atime, mtime: entry.mtime, owner: ownerFor(entry, this.policy) });
    return null;
  }

  /** True when the entry lies beneath a directory that could not be made. */
  isBeneathBroken(relativePath: RawPath): boolean {
    if (this.broken.size === 0) return false;
    for (let slash = relativePath.lastIndexOf('/'); ; slash = relativePath.lastIndexOf('/', slash - 1)) {
      if (this.broken.has(slash < 0 ? '' : relativePath.slice(0, slash))) return true;
      if (slash <= 0) return false;
    }
  }

  /** Sets mode, owner and times, children before parents; returns what could not be set. */
  finalize(): ErrorRecord[] {
    const failures: ErrorRecord[] = [];
    for (let i = this.made.length - 1; i >= 0; i--) {
      const directory = this.made[i]!;
      const bytes = fsPath(directory.path);
      try {
        if (directory.owner) fs.chownSync(bytes, directory.owner.uid, directory.owner.gid);
        fs.chmodSync(bytes, directory.mode);
        fs.utimesSync(bytes, directory.atime, directory.mtime);
      } catch (error) {
        failures.push(errorRecord(error, 'set-metadata', directory.path));
      }
    }
    this.made.length = 0;
    return failures;
  }

  /**
   * A directory left by an earlier run (or the user's existing destination):
   * something that is not a directory is replaced, as rsync does, so nothing is
   * ever written through a symlink; leftovers of a killed run are swept; and it
   * is made writable until finalize() restores its mode.
   */
  private reuse(entry: Entry, path: RawPath): void {
    const target = fsPath(path);
    // The destination root may be a symlink the user chose to copy into.
    const stats = entry.path === '' ? fs.statSync(target) : fs.lstatSync(target);
    if (!stats.isDirectory()) {
      fs.unlinkSync(target);
      fs.mkdirSync(target, OWNER_RWX);
      return;
    }
    if ((stats.mode & OWNER_RWX) !== OWNER_RWX) {
      fs.chmodSync(target, stats.mode | OWNER_RWX);
    }
    for (const name of fs.readdirSync(target, { encoding: 'buffer' })) {
      const raw = rawFromBytes(name);
      if (TEMP_NAME.test(raw)) fs.unlinkSync(fsPath(joinRaw(path, raw)));
    }
  }

  private markBroken(entry: Entry, error: unknown, path: RawPath): ErrorRecord {
    this.broken.add(entry.path);
    return errorRecord(error, 'mkdir', path);
  }
}
