/**
 * What the parent asks a worker to do: jobs, each a path the worker stats
 * itself, and the settings every batch of a run carries, so that workers keep
 * nothing between batches.
 */
import type { RecordedHash } from './hash-state.js';
import type { BackupSettings } from './keep-aside.js';
import type { RawPath } from './raw-path.js';

/** Seconds since the epoch with a fraction, as utimes takes them; never rounded into the next second. */
export type Seconds = number;

export interface Owner {
  uid: number;
  gid: number;
}

/**
 * Who must own the copies: decided once per run by the parent, applied by the
 * workers to each file from its stats. Only root can give files away.
 */
export interface OwnerPolicy {
  preserve: boolean;
  /** Our own ids: a file we create already has them, unless the directory hands down its group. */
  uid: number;
  gid: number;
  groupInherited: boolean;
  /**
   * The copies keep the source's extended attributes too (ACLs, file capabilities);
   * `--no-xattrs` turns it off. Here, with the owners, because the parent's
   * directories and the workers' files both apply it.
   */
  xattrs: boolean;
}

/**
 * A regular file, by path only: the worker stats it as it opens it. A file it
 * finds with other names, or large, it hands back for the parent to schedule:
 * the parent alone knows which name of an inode is copied first, and gives a
 * large file a batch of its own.
 */
export interface FileJob {
  kind: 'file';
  path: RawPath;
  /** Something may already be at the destination name: its directory existed before this run. */
  mayExist?: true;
  /** The parent chose this name of a file with several to be the one copied; the others become links to it. */
  firstName?: true;
  /** The parent knows it is large and sent it alone. */
  large?: true;
  /**
   * Large, and only a forked worker may copy it: its copy holds the process for its whole time
   * (the block loop, for a sparse or hashed file; the kernel's byte copy, where no clone can be made).
   */
  forked?: true;
  /** A previous run's hash of it and the stats it held for (shared/hash-state.ts); only with a manifest and its record. */
  recorded?: RecordedHash;
}

export interface SymlinkJob {
  kind: 'symlink';
  path: RawPath;
  mayExist?: true;
}

/** A second name for a file this run already copied to `target`. */
export interface HardLinkJob {
  kind: 'hardlink';
  path: RawPath;
  mayExist?: true;
  target: RawPath;
}

export type Job = FileJob | SymlinkJob | HardLinkJob;

/**
 * Files at least this big travel in a batch of their own and are copied by the
 * kernel (copy_file_range or a reflink) with progress reported within the file.
 */
export const LARGE_FILE_BYTES = 8 * 1024 * 1024;

export function isLargeFile(job: Job): job is FileJob {
  return job.kind === 'file' && job.large === true;
}

/**
 * When an entry is already at the destination name:
 * 'changed' replaces it unless size and mtime match (rsync's quick check);
 * 'checksum' unless its content matches; 'never' keeps it; 'older' replaces it
 * only when the source is newer; 'always' replaces it.
 */
export type OverwritePolicy = 'changed' | 'checksum' | 'never' | 'older' | 'always';

/** The same for every batch of a run. */
export interface WorkerSettings {
  overwrite: OverwritePolicy;
  /** Modification times this many whole seconds apart count as the same (rsync's --modify-window); 0: exact. */
  modifyWindow: number;
  /** Decide and report, write nothing. */
  dryRun: boolean;
  /** Re-read each written file and compare its SHA-256 with the source's before it gets its final name. */
  verify: boolean;
  /** Send back the SHA-256 of every regular file in the copy (for a manifest). */
  digest: boolean;
  /**
   * The destination root is a temporary directory renamed into place at the end
   * (a first copy): entries are written at their names, with no rename each.
   */
  staged: boolean;
  owners: OwnerPolicy;
  /** --backup: a file replaced is kept aside first (shared/keep-aside.ts); null: it is not. */
  backup: BackupSettings | null;
  /** --itemize-changes: each job that finds an entry at its name reports what differed (JobResult.changes); absent when off. */
  itemize?: true;
  /** --link-dest: absolute paths of the trees a file not at the destination is hard-linked from when one holds it unchanged. */
  linkDest?: RawPath[];
}
