/**
 * Destination directories. The parent makes each one as soon as it is listed, so
 * its files can be dispatched; and it sets their owner and times only at the end,
 * deepest first, because writing the files changes a directory's mtime. The mode
 * waits for the end too, since a read-only mode would stop the files being written
 * at all, unless mkdir can give it at once (the usual 755 or 700 under umask 022).
 * Every call below the root goes through the parent directory's descriptor
 * (shared/directory-handles.ts), so no symlink planted in the tree is followed.
 * On a re-run, a directory that already has its owner and times, and in which
 * nothing was written, is not chown'ed nor timed again: a no-op writes nothing.
 */
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs';
import { errorRecord, type ErrorRecord } from '../shared/errors.js';
import type { Owner, OwnerPolicy } from '../shared/jobs.js';
import { directoryItem } from '../shared/itemize.js';
import { ownerFor } from '../shared/metadata.js';
import type { DirectoryHandles } from '../shared/directory-handles.js';
import { fsPath, joinRaw, parentOf, type FsPath, type RawPath } from '../shared/raw-path.js';
import type { DirectoryEntry } from '../source/entry.js';
import { DirectoryModes } from './directory-modes.js';
import { finalizeDirectories, type MadeDirectory } from './finalize-directories.js';
import { OWNER_RWX, ownerIs, reuseDirectory } from './reuse-directory.js';

/** What became of a listed directory: made now, already there, or a failure. */
export type DirectoryOutcome = 'created' | 'existing' | ErrorRecord;

/** Where each listed directory's outcome goes (the run's events). */
export interface DirectoryReport {
  /** `item`: with itemize, an existing directory's rsync-style item (shared/itemize.ts). */
  directory(entry: DirectoryEntry, outcome: DirectoryOutcome, item?: string): void;
}

export interface DestinationDirectoriesOptions {
  /** The source root: its directories' attributes are read at the end through descriptors of their own. */
  source: RawPath;
  destination: RawPath;
  handles: DirectoryHandles;
  policy: OwnerPolicy;
  /** Look, never write: a dry run. */
  dryRun: boolean;
  /** Each existing directory is reported with what differs (--itemize-changes). */
  itemize: boolean;
  /** With itemize: the root's stats before the run wrote its probe there (which moves its times). */
  rootBefore?: BigIntStats;
  /** The run made the destination root itself, empty, mode 700 (a fresh staging directory): nothing to look at. */
  rootMade: boolean;
  /** Temporary files found in an existing directory are a killed run's, and removed; false where other runs write at the same time (a planned copy's parts). */
  sweepsLeftovers: boolean;
  report: DirectoryReport;
}

export class DestinationDirectories {
  private readonly made: MadeDirectory[] = [];
  /** Relative paths of directories that existed before this run: entries in them may already be there. */
  private readonly existing = new Set<RawPath>();
  /** Directories that could not be made, by relative path, with why: nothing is written beneath them. */
  private readonly broken = new Map<RawPath, ErrorRecord>();
  /** Listed but not made yet, by relative path: with --include, only directories that receive something are made. */
  private readonly deferred = new Map<RawPath, DirectoryEntry>();
  private readonly modes = new DirectoryModes();
  /** Existing directories whose entries this run wrote, replaced, deleted or failed in: their times moved. */
  private readonly changed = new Set<RawPath>();
  /** Every directory was listed again (the delete pass): a listing can move a directory's atime. */
  private allListed = false;
  /** With itemize: the stats of the existing directory just looked at. */
  private found: BigIntStats | undefined;

  private readonly source: RawPath;
  private readonly destination: RawPath;
  private readonly handles: DirectoryHandles;
  private readonly policy: OwnerPolicy;
  private readonly dryRun: boolean;
  private readonly itemize: boolean;
  private readonly rootBefore: BigIntStats | undefined;
  private rootMade: boolean;
  private readonly sweepsLeftovers: boolean;
  private readonly report: DirectoryReport;

  constructor(options: DestinationDirectoriesOptions) {
    ({ source: this.source, destination: this.destination, handles: this.handles, policy: this.policy, dryRun: this.dryRun, itemize: this.itemize } = options);
    this.rootMade = options.rootMade;
    this.sweepsLeftovers = options.sweepsLeftovers;
    this.rootBefore = options.rootBefore;
    this.report = options.report;
  }

  make(entry: DirectoryEntry): void {
    this.makeListed(entry);
  }

  /** Waits to make the directory until ensureParentsOf() asks for it. */
  defer(entry: DirectoryEntry): void {
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

  /**
   * Something was written, replaced, deleted or failed at `relativePath` (a temporary file made and
   * removed moves the directory's mtime too): its directory's times are set again at the end.
   */
  entryChanged(relativePath: RawPath): void {
    if (this.existing.size === 0) return;
    const parent = parentOf(relativePath) ?? '';
    if (this.existing.has(parent)) this.changed.add(parent);
  }

  /** The delete pass listed the destination's directories. */
  listedAgain(): void {
    this.allListed = true;
  }

  /** Why the directory above an entry could not be made, when one could not; undefined otherwise. */
  brokenAbove(relativePath: RawPath): ErrorRecord | undefined {
    if (this.broken.size === 0) return undefined;
    for (let slash = relativePath.lastIndexOf('/'); ; slash = relativePath.lastIndexOf('/', slash - 1)) {
      const broken = this.broken.get(slash < 0 ? '' : relativePath.slice(0, slash));
      if (broken || slash <= 0) return broken;
    }
  }

  /** Owner, attributes, mode and times of every directory made or kept, at the end (finalize-directories.ts). */
  async finalize(): Promise<{ failures: ErrorRecord[]; losses: number[] }> {
    const { made, existing, changed, allListed, source, handles, policy } = this;
    const result = await finalizeDirectories({ made, existing, changed, allListed, source, destination: this.destination, handles, policy });
    this.made.length = 0;
    return result;
  }

  private makeListed(entry: DirectoryEntry): void {
    this.found = undefined;
    const outcome = this.dryRun ? this.lookAt(entry) : this.makeNow(entry);
    const { found } = this;
    const before = entry.path === '' ? (this.rootBefore ?? found) : found;
    this.report.directory(entry, outcome, outcome === 'existing' && before ? directoryItem(entry, before, this.policy) : undefined);
  }

  private makeNow(entry: DirectoryEntry): DirectoryOutcome {
    const path = joinRaw(this.destination, entry.path);
    const owner = ownerFor(entry, this.policy);
    let made: { outcome: 'created' | 'existing'; modeIsSet: boolean; found?: BigIntStats };
    try {
      made = this.makeOrReuse(entry, owner);
    } catch (error) {
      return this.markBroken(entry, error, path);
    }
    const { outcome, found } = made;
    if (this.itemize) this.found = found;
    if (outcome === 'existing') this.existing.add(entry.path);
    else this.entryChanged(entry.path);
    this.made.push({
      path: entry.path,
      mode: entry.mode,
      modeIsSet: made.modeIsSet,
      atime: entry.atime,
      mtime: entry.mtime,
      atimeNs: entry.atimeNs,
      mtimeNs: entry.mtimeNs,
      // An existing directory that has its owner already is not chown'ed again.
      owner: found && ownerIs(found, owner) ? undefined : owner,
      source: entry.source,
      existed: outcome === 'existing',
      ...(found && { found: { atimeNs: found.atimeNs, mtimeNs: found.mtimeNs } }),
    });
    return outcome;
  }

  /**
   * Makes the directory, or takes what is there; whether its mode is already the one finalize() would give,
   * and, for an existing directory kept, its stats as the run found it.
   */
  private makeOrReuse(entry: DirectoryEntry, owner: Owner | undefined): { outcome: 'created' | 'existing'; modeIsSet: boolean; found?: BigIntStats } {
    if (entry.path === '' && this.rootMade) {
      // Ours, empty, and made where no one else could put a link: finalize() gives it its mode.
      this.rootMade = false;
      return { outcome: 'created', modeIsSet: false };
    }
    let modeIsSet = this.modes.mkdirGivesExactly(entry, owner !== undefined);
    const target = this.fsPathOf(entry.path);
    // Under a directory that was already there (a re-run), look before making:
    // mkdir would mostly fail, and a thrown EEXIST costs more than the stat.
    let there = this.mayBeThere(entry.path) ? this.statDestination(entry.path, target) : undefined;
    if (!there) {
      try {
        fs.mkdirSync(target, modeIsSet ? entry.mode : OWNER_RWX);
        if (modeIsSet) modeIsSet = this.modes.keeps(entry.path, target, entry.mode);
        return { outcome: 'created', modeIsSet };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        // Something is there after all; nothing when it is a dangling symlink, which stays a failure.
        there = this.statDestination(entry.path, target);
        if (!there) throw error;
      }
    }
    const reused = reuseDirectory(this.handles, entry, target, there, this.sweepsLeftovers);
    if (reused === 'created') return { outcome: 'created', modeIsSet: false };
    // Only a chown could change the mode after this, and none is made where the owner is right already.
    return { outcome: 'existing', modeIsSet: reused === entry.mode && ownerIs(there, owner), found: there };
  }

  /** The root by its path (it may be a symlink the user chose to copy into); anything below through its parent's descriptor. */
  private fsPathOf(relativePath: RawPath): FsPath {
    return relativePath === '' ? fsPath(this.destination) : this.handles.entryPath(relativePath);
  }

  /** What is at a directory's destination name, or undefined; the root is followed if it is a symlink. */
  private statDestination(relativePath: RawPath, target: FsPath): BigIntStats | undefined {
    const options = { bigint: true, throwIfNoEntry: false } as const;
    return relativePath === '' ? fs.statSync(target, options) : fs.lstatSync(target, options);
  }

  /** The root may be an existing destination; anything else only if its parent was there before this run. */
  private mayBeThere(relativePath: RawPath): boolean {
    const parent = parentOf(relativePath);
    return parent === null || this.existing.has(parent);
  }

  /** A dry run's make(): what would happen, from what is there. */
  private lookAt(entry: DirectoryEntry): DirectoryOutcome {
    if (!this.mayBeThere(entry.path)) return 'created';
    const path = joinRaw(this.destination, entry.path);
    try {
      const there = this.statDestination(entry.path, this.fsPathOf(entry.path));
      if (!there?.isDirectory()) return 'created';
      if (this.itemize) this.found = there;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR' || code === 'ENOENT') return 'created';
      return errorRecord(error, 'stat', path);
    }
    this.existing.add(entry.path);
    return 'existing';
  }

  private markBroken(entry: DirectoryEntry, error: unknown, path: RawPath): ErrorRecord {
    const record = errorRecord(error, 'mkdir', path);
    this.broken.set(entry.path, record);
    return record;
  }
}
