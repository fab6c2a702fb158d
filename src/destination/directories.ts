/**
 * Destination directories. The parent makes each one as soon as it is listed, so
 * its files can be dispatched; and it sets their owner and times only at the end,
 * deepest first, because writing the files changes a directory's mtime. The mode
 * waits for the end too, since a read-only mode would stop the files being written
 * at all, unless mkdir can give it at once (the usual 755 or 700 under umask 022).
 */
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs';
import { errorRecord, type ErrorRecord } from '../shared/errors.js';
import type { Owner, OwnerPolicy, Seconds } from '../shared/jobs.js';
import { microseconds, microsecondsOf, ownerFor } from '../shared/metadata.js';
import { fsPath, joinRaw, parentOf, rawFromLatin1, type RawPath } from '../shared/raw-path.js';
import { TEMP_NAME, TEMP_NAME_SUFFIX } from '../shared/temp-name.js';
import type { DirectoryEntry } from '../source/entry.js';

interface MadeDirectory {
  path: RawPath;
  mode: number;
  /** mkdir or the existing directory already has `mode`: finalize() leaves it. */
  modeIsSet: boolean;
  atime: Seconds;
  mtime: Seconds;
  owner: Owner | undefined;
}

/** What became of a listed directory: made now, already there, or a failure. */
export type DirectoryOutcome = 'created' | 'existing' | ErrorRecord;

const OWNER_RWX = 0o700;
const PERMISSION_BITS = 0o777;

/** The process's umask, read without setting it; null where /proc does not say. */
function readUmask(): number | null {
  try {
    const match = /^Umask:\s*([0-7]+)$/m.exec(fs.readFileSync('/proc/self/status', 'latin1'));
    return match ? parseInt(match[1]!, 8) : null;
  } catch {
    return null;
  }
}

export class DestinationDirectories {
  private readonly made: MadeDirectory[] = [];
  /** Relative paths of directories that existed before this run: entries in them may already be there. */
  private readonly existing = new Set<RawPath>();
  /** Relative paths of directories that could not be made: nothing is written beneath them. */
  private readonly broken = new Set<RawPath>();
  /** Listed but not made yet, by relative path: with --include, only directories that receive something are made. */
  private readonly deferred = new Map<RawPath, DirectoryEntry>();
  /** Every directory of the source the walk went through, made or not, parents first. */
  private readonly listed: RawPath[] = [];
  /**
   * Lets mkdir give a directory its final mode, saving a chmod each: null when
   * unknown, or once a directory came out with another mode (a set-group-ID or
   * default-ACL parent), which the first such mkdir checks.
   */
  private umask = readUmask();
  private exactModeChecked = false;

  constructor(
    private readonly destination: RawPath,
    private readonly policy: OwnerPolicy,
    /** Look, never write: a dry run. */
    private readonly dryRun: boolean,
    private readonly onDirectory: (entry: DirectoryEntry, outcome: DirectoryOutcome) => void,
  ) {}

  make(entry: DirectoryEntry): void {
    this.listed.push(entry.path);
    this.makeListed(entry);
  }

  /** Waits to make the directory until ensureParentsOf() asks for it. */
  defer(entry: DirectoryEntry): void {
    this.listed.push(entry.path);
    this.deferred.set(entry.path, entry);
  }

  /** Makes the deferred directories above an entry that is about to be copied, outermost first. */
  ensureParentsOf(relativePath: RawPath): void {
    if (this.deferred.size === 0) return;
    const chain: DirectoryEntry[] = [];
    for (let dir = parentOf(relativePath); dir !== null; dir = parentOf(dir)) {
      const entry = this.deferred.get(dir);
      if (!entry) break;
      chain.push(entry);
      this.deferred.delete(dir);
    }
    for (let i = chain.length - 1; i >= 0; i--) this.makeListed(chain[i]!);
  }

  /** True when an entry's directory existed before the run, so something may already be at its name. */
  mayHoldEntryFor(relativePath: RawPath): boolean {
    if (this.existing.size === 0) return false;
    return this.existing.has(parentOf(relativePath) ?? '');
  }

  /** Every source directory the walk went through, relative, parents first: where --delete compares. */
  listedDirectories(): readonly RawPath[] {
    return this.listed;
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
        if (!directory.modeIsSet) fs.chmodSync(bytes, directory.mode);
        fs.utimesSync(bytes, directory.atime, directory.mtime);
      } catch (error) {
        failures.push(errorRecord(error, 'set-metadata', directory.path));
      }
    }
    this.made.length = 0;
    return failures;
  }

  private makeListed(entry: DirectoryEntry): void {
    this.onDirectory(entry, this.dryRun ? this.lookAt(entry) : this.makeNow(entry));
  }

  private makeNow(entry: DirectoryEntry): DirectoryOutcome {
    const path = joinRaw(this.destination, entry.path);
    const owner = ownerFor(entry, this.policy);
    let modeIsSet = this.mkdirGivesExactly(entry, owner);
    let outcome: DirectoryOutcome = 'created';
    try {
      // Under a directory that was already there (a re-run), look before making:
      // mkdir would mostly fail, and a thrown EEXIST costs more than the stat.
      let there = this.mayBeThere(entry.path) ? statDestination(entry, path) : undefined;
      if (!there) {
        try {
          fs.mkdirSync(fsPath(path), modeIsSet ? entry.mode : OWNER_RWX);
          if (modeIsSet && !this.exactModeChecked) modeIsSet = this.checkExactMode(path, entry.mode);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
          // Something is there after all; nothing when it is a dangling symlink, which stays a failure.
          there = statDestination(entry, path);
          if (!there) throw error;
        }
      }
      if (there) {
        const reused = this.reuse(entry, path, there);
        outcome = reused === 'created' ? 'created' : 'existing';
        modeIsSet = reused === entry.mode && owner === undefined;
      }
    } catch (error) {
      return this.markBroken(entry, error, path);
    }
    if (outcome === 'existing') this.existing.add(entry.path);
    this.made.push({ path, mode: entry.mode, modeIsSet, atime: entry.atime, mtime: entry.mtime, owner });
    return outcome;
  }

  /** The root may be an existing destination; anything else only if its parent was there before this run. */
  private mayBeThere(relativePath: RawPath): boolean {
    const parent = parentOf(relativePath);
    return parent === null || this.existing.has(parent);
  }

  /**
   * Whether mkdir can make this directory with its final mode: the umask takes
   * nothing from it, the owner can still write into it, no special bit, no chown
   * to follow (which would open a window under our group). The root is made
   * private and gets its mode last.
   */
  private mkdirGivesExactly(entry: DirectoryEntry, owner: Owner | undefined): boolean {
    return (
      this.umask !== null &&
      entry.path !== '' &&
      owner === undefined &&
      (entry.mode & ~PERMISSION_BITS) === 0 &&
      (entry.mode & OWNER_RWX) === OWNER_RWX &&
      (entry.mode & this.umask) === 0
    );
  }

  /** The first directory made with its final mode shows whether mkdir honours modes here. */
  private checkExactMode(path: RawPath, mode: number): boolean {
    this.exactModeChecked = true;
    if ((fs.lstatSync(fsPath(path)).mode & 0o7777) === mode) return true;
    this.umask = null;
    return false;
  }

  /** A dry run's make(): what would happen, from what is there. */
  private lookAt(entry: DirectoryEntry): DirectoryOutcome {
    if (!this.mayBeThere(entry.path)) return 'created';
    const path = joinRaw(this.destination, entry.path);
    try {
      if (!statDestination(entry, path)?.isDirectory()) return 'created';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return 'created';
      return errorRecord(error, 'stat', path);
    }
    this.existing.add(entry.path);
    return 'existing';
  }

  /**
   * A directory left by an earlier run (or the user's existing destination):
   * something that is not a directory is replaced, as rsync does, so nothing is
   * ever written through a symlink; leftovers of a killed run are swept; and it
   * is made writable until finalize() restores its mode.
   * Returns 'created' when it had to be replaced; otherwise the mode it has now
   * if that is untouched, or -1.
   */
  private reuse(entry: DirectoryEntry, path: RawPath, stats: BigIntStats): 'created' | number {
    const target = fsPath(path);
    if (!stats.isDirectory()) {
      fs.unlinkSync(target);
      fs.mkdirSync(target, OWNER_RWX);
      return 'created';
    }
    let mode = Number(stats.mode) & 0o7777;
    if ((mode & OWNER_RWX) !== OWNER_RWX) {
      fs.chmodSync(target, mode | OWNER_RWX);
      mode = -1;
    }
    // Still the mtime a complete run gave it: nothing was created in it since, so no killed
    // run left anything here, and listing it (a no-op re-run's biggest cost after the walk) is spared.
    if (microsecondsOf(stats.mtimeNs) === microseconds(entry.mtime)) return mode;
    for (const name of fs.readdirSync(target, { encoding: 'latin1' })) {
      if (name.endsWith(TEMP_NAME_SUFFIX) && TEMP_NAME.test(name)) fs.unlinkSync(fsPath(joinRaw(path, rawFromLatin1(name))));
    }
    return mode;
  }

  private markBroken(entry: DirectoryEntry, error: unknown, path: RawPath): ErrorRecord {
    this.broken.add(entry.path);
    return errorRecord(error, 'mkdir', path);
  }
}

/** What is at a directory's destination name, or undefined; the root may be a symlink the user chose to copy into. */
function statDestination(entry: DirectoryEntry, path: RawPath): BigIntStats | undefined {
  const options = { bigint: true, throwIfNoEntry: false } as const;
  return entry.path === '' ? fs.statSync(fsPath(path), options) : fs.lstatSync(fsPath(path), options);
}
