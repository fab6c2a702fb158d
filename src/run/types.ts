/**
 * The library's public types: copyFolder()'s options, the events it reports, and its summary.
 *
 * Every path in them is lossless text: bytes that are valid UTF-8 as their
 * characters, and each other byte as the lone surrogate U+DC80+byte (Python's
 * "surrogateescape", PEP 383). pathBytes(path) gives back a name's exact bytes;
 * JSON.stringify keeps such a path exact (`\udce8`, `\n`).
 */
import type { Operation } from '../shared/errors.js';
import type { OverwritePolicy } from '../shared/jobs.js';
import type { LossKey } from '../shared/xattrs.js';
import type { Shard } from '../source/shard-option.js';

export type { Operation, OverwritePolicy, Shard };

export interface CopyOptions {
  /** Copy extended attributes, POSIX ACLs and file capabilities (default true, as `cp -a`). */
  xattrs?: boolean;
  /** Worker processes; defaults to os.availableParallelism(). */
  jobs?: number;
  /** Stops dispatching; copies in flight finish or are removed; resolves with a partial summary. */
  signal?: AbortSignal;
  /** Called at most 10 times a second, and once at the end. */
  onProgress?: (progress: CopyProgress) => void;
  /** Called as each entry fails; the copy goes on. */
  onFailure?: (failure: CopyFailure) => void;
  /** Called for each special file (FIFO, socket, device), which is never opened. */
  onSkip?: (skip: CopySkip) => void;
  /** Called for each entry created, overwritten, skipped (special files included), deleted or failed. */
  onEntry?: (event: EntryEvent) => void;
  /** Called when something found beside the destination was not trusted and is taken over or left alone. */
  onWarning?: (warning: CopyWarning) => void;
  /** Globs (picomatch) of entries not to copy; a name without a slash matches at any depth. */
  exclude?: string[];
  /** Globs: when given, only files and symlinks matching one are copied. */
  include?: string[];
  /** Honour .gitignore files at every level of the source. */
  gitignore?: boolean;
  /**
   * Copy only the files, symlinks and special files whose path (relative to the source) falls in shard `index` of
   * `count` (0 <= index < count), by rclone's --hash-filter rule; every directory is made. With delete, only this
   * shard's extraneous entries are deleted, and a directory once no shard's entries are left in it.
   */
  shard?: Shard;
  /** When an entry is already at the destination: 'changed' (default), 'checksum', 'never', 'older' or 'always'. */
  overwrite?: OverwritePolicy;
  /**
   * Modification times this many whole seconds apart count as the same when deciding whether a file is up to
   * date (rsync's --modify-window), for file systems that keep coarse times (FAT: 2 seconds); default 0, exact.
   */
  modifyWindow?: number;
  /** Do not enter a directory on another file system than the source's (a mount point): it is made, empty (rsync -x). */
  oneFileSystem?: boolean;
  /**
   * Keep each file or symlink the run replaces or deletes aside, under its name with `suffix` ('~'), or in
   * `backupDir` (relative to the destination; implies backup) at its relative path (rsync's --backup).
   */
  backup?: boolean;
  backupDir?: string;
  /** Appended to a backup's name: default '~', or '' in a backupDir. */
  suffix?: string;
  /** Report what would be created, overwritten, skipped and deleted; change nothing. */
  dryRun?: boolean;
  /** Re-read every written file and compare its SHA-256 with the source's; a mismatch is a failure. */
  verify?: boolean;
  /** Write the SHA-256 of every file in the copy to this file, in `sha256sum` format. */
  manifest?: string;
  /**
   * Entry events (onEntry, log) carry `changes`, rsync's --itemize-changes item, and `target`; existing
   * directories get an event too. Workers then compare each entry already at the destination with its source.
   */
  itemize?: boolean;
  /** Write one JSON line per entry to this file. */
  log?: string;
  /** Remove destination entries that are not in the source (excluded ones are kept), after a successful copy. */
  delete?: boolean;
  /** With delete: delete nothing if more than this many entries would go. */
  maxDelete?: number;
  /**
   * Copy only these paths (relative to the source, lossless text) and make the directories above them, instead of
   * the whole tree; a listed directory is made and holds only what is listed in it. The filters still apply. Needs a
   * source directory; not with delete.
   */
  files?: readonly string[];
  /**
   * Directories (up to 20; a relative one is relative to the destination) against which a file not at the destination
   * is hard-linked instead of copied when one holds it unchanged (size, mtime, mode, owner, attributes), as rsync's
   * --link-dest. One that does not exist is a warning (LINK_DEST_MISSING).
   */
  linkDest?: string[];
  /**
   * The destination is a directory of snapshots: make `<destination>/<UTC time>` (`2026-12-07T151900Z`), hard-linked
   * against the newest complete snapshot there, renamed into place only when complete, and point `<destination>/latest`
   * at it. Not with delete or files.
   */
  snapshot?: boolean;
  /** With snapshot: after a complete one, remove the oldest complete snapshots beyond this many (at least 1). */
  keep?: number;
}

/** An entry failure, or the failure that stopped the run, as the user reads it. */
export interface CopyFailure {
  /** Where it failed, as given (below the source or the destination argument). Lossless text (surrogateescape): pathBytes(path) is the name's exact bytes. */
  path: string;
  /** The entry, relative to the copy's root ('.' for the root) as EntryEvent.path is; absent for what is no entry of the copy (a log file). */
  entry?: string;
  /** The system's code (EACCES, ENOENT, …) or one of foldercopy's (WORKER_CRASHED, EVERIFY, …). */
  code: string;
  operation: Operation;
  message: string;
}

/**
 * Something beside the destination that the run did not trust: a lock no live
 * run holds (STALE_LOCK, taken over), or something at a staging directory's name
 * that another user, or no run, made (FOREIGN_STAGING, left alone); or a
 * linkDest directory that does not exist (LINK_DEST_MISSING, copied without it).
 */
export interface CopyWarning {
  code: 'STALE_LOCK' | 'FOREIGN_STAGING' | 'LINK_DEST_MISSING';
  /** Lossless text (surrogateescape), like every path here. */
  path: string;
  message: string;
}

export interface CopySkip {
  /** Lossless text (surrogateescape), like every path here. */
  path: string;
  reason: string;
}

/** One entry's fate, as onEntry receives it and --log writes it. */
export interface EntryEvent {
  /** Relative to the source (and the destination); '.' is the root. Lossless text (surrogateescape). */
  path: string;
  /** 'link': hard-linked from a link-dest tree (linkDest, snapshot) instead of copied. */
  action: 'create' | 'link' | 'overwrite' | 'skip' | 'delete' | 'fail';
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'special';
  /** Bytes of a regular file. */
  size?: number;
  /** Why it was skipped or failed. */
  reason?: string;
  /**
   * With the itemize option: rsync's eleven characters `YXcstpoguax` (`>f.st......`, `cd+++++++++`,
   * `*deleting  `); see the README. Absent for a failure or a special file.
   */
  changes?: string;
  /** With the itemize option: a symlink's text, or the first name a hard link's second name is linked to (relative, as `path`). */
  target?: string;
}

export interface CopyProgress {
  /** Files, symlinks and hard links finished (copied, kept or failed). */
  filesDone: number;
  /** Grows while `listing` is true. */
  filesTotal: number;
  /** Bytes of files written so far. */
  bytesDone: number;
  /** Neither the copy's walk nor the census (run/census.ts) has seen the whole tree yet: filesTotal is a lower bound. */
  listing: boolean;
  /**
   * The census has sized the tree: the files and bytes left are known. No ETA is
   * shown before (a file not met yet may be a large one).
   */
  totalsKnown: boolean;
  /**
   * Estimated work done, 0 to 100: 0 while listing (the total is not known yet);
   * after that it only goes up. Work is files and bytes weighed by a cost per file
   * and a cost per byte learned as the copy goes.
   */
  percent: number;
  /**
   * Estimated ms left, from the same two learned costs, the files left and the
   * bytes the census counted that are still to be written; it moves smoothly
   * towards each new estimate. Undefined while listing and until some work has
   * been timed.
   */
  etaMs: number | undefined;
  /** The entry most recently worked on, relative to the source; lossless text (surrogateescape). */
  currentPath: string | undefined;
  elapsedMs: number;
}

/**
 * Entries copied without some of their metadata, by what was lost:
 * `xattrsNotSupported` and `aclsNotSupported` (the destination cannot hold them),
 * `xattrsRefused` (a namespace the user may not write), `unavailable` (no calls
 * for them on this platform).
 */
export type MetadataNotKept = Record<LossKey, number>;

export interface VerifiedCount {
  files: number;
  /**
   * Of those, files read through the page cache: their cached pages could not be dropped (no native
   * calls, or a file system that refuses the advice). The others were read from the disk, a written
   * one after it was flushed (fdatasync).
   */
  throughCache: number;
  /**
   * Of those, files not read at all: both sides' device, inode, size, mtime and ctime are those a
   * previous run recorded in the manifest's state file when it read the copy back (see the README).
   */
  unchanged: number;
}

export interface CopySummary {
  /** As given (normalised), which for a path from a command line is already valid text. */
  source: string;
  destination: string;
  dryRun: boolean;
  /** Entries written (in a dry run: that would be), by kind; directories count when created. */
  files: number;
  directories: number;
  symlinks: number;
  hardLinks: number;
  /** Bytes of the files written. */
  bytes: number;
  /** Entries of any kind that were not at the destination. */
  created: number;
  /** Files hard-linked from a link-dest tree (linkDest, snapshot) instead of copied; also counted in created, not in files or bytes. */
  linked: number;
  /** Entries that replaced a different one at the destination. */
  overwritten: number;
  /** Entries left as they were: up to date, or kept by the overwrite policy. */
  skipped: number;
  /** Entries removed by delete. */
  deleted: number;
  /** Files and symlinks kept aside by backup before they were replaced or deleted. */
  backedUp: number;
  /** Entries copied without some of their metadata, by what was lost. */
  metadataNotKept: MetadataNotKept;
  /**
   * With verify: regular files whose content was read back and matched the source's (each one written,
   * and each one kept as up to date); undefined without verify.
   */
  verified: VerifiedCount | undefined;
  /** FIFOs, sockets and devices: never opened, never copied. */
  specialFiles: CopySkip[];
  failures: CopyFailure[];
  /** What onWarning was told, in order. */
  warnings: CopyWarning[];
  durationMs: number;
  /** The signal was aborted: the copy is partial. */
  aborted: boolean;
  /** A failure that stopped the whole copy, such as a full or read-only destination. */
  stoppedBy: CopyFailure | undefined;
  /** Why delete removed nothing (failures during the copy, or maxDelete); undefined otherwise. */
  deletionSkipped: string | undefined;
  /** With the snapshot option: the snapshot made, or why it was not published. */
  snapshot?: SnapshotReport;
}

/** copyFolders()'s options: copyFolder()'s, and flat. */
export interface CopyFoldersOptions extends CopyOptions {
  /** Each file of a glob source or of `files` goes into the destination itself, without its directories. */
  flat?: boolean;
  /**
   * Called once the sources are expanded and checked, before anything is copied, with the copyFolder() calls to
   * come (a destination undefined is `<source>_copy`); a FoldercopyError thrown there refuses them all.
   */
  onCopies?: (copies: ReadonlyArray<{ source: string; destination: string | undefined }>) => void;
}

/** What copyFolders() did: its copies summed (or the one copy's summary), and each copy's own summary. */
export interface CopyFoldersSummary extends CopySummary {
  /** One summary per copyFolder() call, in order; the last may be interrupted or stopped, and none follows it. */
  copies: CopySummary[];
}

/** What became of the snapshot, in the summary (and --json) of a snapshot run. */
export interface SnapshotReport {
  /** Where the snapshot is (complete) or would have been: BACKUPS/<name>. */
  path: string;
  /** Published under its name, latest pointing at it; when false, the copy is in the summary's destination, a hidden name. */
  complete: boolean;
  /** The snapshot its unchanged files are hard links to, or null (the first one). */
  linkedAgainst: string | null;
  /** Old snapshots removed by keep, oldest first. */
  removed: string[];
}
