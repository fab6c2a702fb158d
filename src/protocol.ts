/**
 * The one message protocol between the parent and its workers, imported by both.
 * Workers keep nothing between batches: every batch carries its roots and the
 * run's settings, and every job is a path the worker stats itself.
 */
import { getSystemErrorMap } from 'node:util';
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
}

/**
 * A regular file, by path only: the worker stats it as it opens it. A file it
 * finds with other names, or large, it hands back (OUTCOME.deferred) for the
 * parent to schedule: the parent alone knows which name of an inode is copied
 * first, and gives a large file a batch of its own.
 */
export interface FileJob {
  kind: 'file';
  path: RawPath;
  /** Something may already be at the destination name: its directory existed before this run. */
  check?: true;
  /** The parent chose this name of a multi-name file to be copied. */
  linked?: true;
  /** The parent knows it is large and sent it alone. */
  large?: true;
}

export interface SymlinkJob {
  kind: 'symlink';
  path: RawPath;
  check?: true;
}

/** A second name for a file this run already copied to `target`. */
export interface HardLinkJob {
  kind: 'hardlink';
  path: RawPath;
  check?: true;
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

/** What was being done when an entry failed; names the "what failed" part of its message. */
export type Operation =
  | 'list'
  | 'stat'
  | 'read'
  | 'write'
  | 'mkdir'
  | 'rename'
  | 'link'
  | 'set-metadata'
  | 'verify'
  | 'delete'
  | 'worker';

/** An error as a plain value: Error fields are not enumerable and would not survive IPC. */
export interface ErrorRecord {
  code: string;
  message: string;
  operation: Operation;
  path: RawPath;
}

/**
 * When an entry is already at the destination name:
 * 'changed' replaces it unless size and mtime match (rsync's quick check);
 * 'checksum' unless its content matches; 'never' keeps it; 'older' replaces it
 * only when the source is newer; 'always' replaces it.
 */
export type OverwritePolicy = 'changed' | 'checksum' | 'never' | 'older' | 'always';

/** The same for every batch of a run. */
export interface RunSettings {
  overwrite: OverwritePolicy;
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
}

export interface CopyBatchMessage {
  type: 'copy';
  batchId: number;
  source: RawPath;
  destination: RawPath;
  settings: RunSettings;
  jobs: Job[];
}

export type ParentMessage = CopyBatchMessage;

export interface ReadyMessage {
  type: 'ready';
}

/** What became of a job, one character each: FilesDoneMessage.outcomes stays small for 256 jobs. */
export const OUTCOME = {
  created: 'c',
  overwritten: 'o',
  /** Left as it was (up to date, or kept by the overwrite policy). */
  skipped: 's',
  failed: 'f',
  /** Handed back unfinished, for the parent to schedule again (see FileJob). */
  deferred: 'd',
} as const;
export type Outcome = (typeof OUTCOME)[keyof typeof OUTCOME];

/**
 * The next `count` jobs of the batch are finished (in order): `outcomes` has one
 * Outcome per job, `sizes` the bytes of each regular file as the worker found it
 * (0 for other jobs); failures carry their index in the batch, and so do deferred
 * files with other names, with their inode; with RunSettings.digest, `digests`
 * has each one's SHA-256 in hex ('' for none). Sent at the end of a batch and
 * during long ones, so a crash loses only what was not yet confirmed.
 */
export interface FilesDoneMessage {
  type: 'filesDone';
  batchId: number;
  count: number;
  outcomes: string;
  sizes: number[];
  failures: Array<{ index: number; error: ErrorRecord }>;
  linked: Array<{ index: number; inode: string }>;
  digests?: string[];
}

/** Bytes written so far of the one large file in progress; for display only. */
export interface FileProgressMessage {
  type: 'fileProgress';
  batchId: number;
  bytes: number;
}

export type WorkerMessage = ReadyMessage | FilesDoneMessage | FileProgressMessage;

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'ready' || type === 'filesDone' || type === 'fileProgress';
}

export function isParentMessage(value: unknown): value is ParentMessage {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'copy';
}

const systemErrors = getSystemErrorMap();

/** Turns a thrown fs error into a record; the message is the system's reason, without Node's path decoration. */
export function errorRecord(error: unknown, operation: Operation, path: RawPath): ErrorRecord {
  const { code, errno, message } = (error ?? {}) as NodeJS.ErrnoException;
  const reason = typeof errno === 'number' ? systemErrors.get(errno)?.[1] : undefined;
  return {
    code: code ?? 'EUNKNOWN',
    message: reason ?? message ?? String(error),
    operation,
    path,
  };
}
