/**
 * The messages between the parent and its workers, and the codec of job
 * results: the one file both processes import to talk. The parent sends
 * batches; a worker answers that it is ready, confirms finished jobs in order,
 * and reports the bytes of a large file in progress. There is no stop message:
 * a worker leaves when its channel closes.
 */
import type { ErrorRecord } from './errors.js';
import type { FileState } from './hash-state.js';
import type { Job, WorkerSettings } from './jobs.js';
import type { RawPath } from './raw-path.js';

/** Parent → worker: copy these jobs, in order. */
export interface CopyBatch {
  type: 'copy';
  batchId: number;
  /** The roots as the user gave them, which failures name; relative ones are resolved against `cwd`. */
  source: RawPath;
  destination: RawPath;
  cwd: RawPath;
  settings: WorkerSettings;
  jobs: Job[];
}

export type ToWorker = CopyBatch;

/** Worker → parent: booted, send work. */
interface Ready {
  type: 'ready';
}

/**
 * Worker → parent: the next `count` jobs of the batch are finished, in order.
 * Results are columnar (see encodeResults) so that 256 of them stay a small
 * message: `outcomes` has one character per job, `sizes` one number; the rare
 * fields carry their index within this message.
 */
export interface FilesDone {
  type: 'filesDone';
  batchId: number;
  count: number;
  outcomes: string;
  sizes: number[];
  failures: Array<{ index: number; error: ErrorRecord }>;
  inodes: Array<{ index: number; inode: string }>;
  /** With WorkerSettings.digest: each job's SHA-256 in hex, '' for none. */
  digests?: string[];
  /** With WorkerSettings.verify: one character a job, how its content was checked (VERIFIED_CODES), '-' for not at all. */
  verified?: string;
  /**
   * With WorkerSettings.itemize: each job's JobResult.changes ('' for none, else nine letters),
   * followed by a symlink's JobResult.linkText.
   */
  itemized?: string[];
  /** With WorkerSettings.digest: what the next run's hash record says of each job (JobResult.state), by index; absent when none. */
  states?: Array<{ index: number; state: FileState }>;
  /** Jobs whose replaced entry was kept aside (JobResult.backedUp), by index; absent when none was. */
  backedUp?: number[];
  /** Metadata the destination could not hold (JobResult.lost); absent when no job lost any. */
  lost?: Array<{ index: number; lost: number }>;
  /**
   * CPU time (user and system, ms) the worker spent since its last confirmation:
   * beside the time those jobs took, it tells how much of it went waiting on the
   * file system, where more workers than cores pay (pool/pace.ts).
   */
  cpuMs?: number;
  /** Time (ms) the worker waited for a core since its last confirmation (shared/core-wait.ts): not the jobs' time. */
  waitMs?: number;
}

/** Worker → parent: bytes written so far of the one large file in progress; for display only. */
interface FileProgress {
  type: 'fileProgress';
  batchId: number;
  bytes: number;
}

export type FromWorker = Ready | FilesDone | FileProgress;

export function isFromWorker(value: unknown): value is FromWorker {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'ready' || type === 'filesDone' || type === 'fileProgress';
}

export function isToWorker(value: unknown): value is ToWorker {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'copy';
}

/**
 * Why a worker hands a job back unfinished, for the parent to schedule again:
 * the file has other names (the parent picks the one copied), it is large (it
 * travels alone; largeForked: and only a forked worker may copy it, see FileJob),
 * or the batch already wrote its share of bytes.
 */
type HandBack = 'otherNames' | 'large' | 'largeForked' | 'batchFull';

/**
 * How --verify read a copy: from the disk (its cached pages dropped first), or through the page cache;
 * or 'record': not at all, both sides unchanged since a previous run read them back (shared/hash-state.ts).
 */
export type ReadFrom = 'disk' | 'cache' | 'record';

/** 'linked': not at the destination, and hard-linked from a link-dest tree that held it unchanged (created, no bytes written). */
export type Outcome = 'created' | 'linked' | 'overwritten' | 'skipped' | 'failed' | HandBack;

/** What became of one job. */
export interface JobResult {
  outcome: Outcome;
  /** Bytes of a regular file's source, as the worker found it; 0 for other jobs. */
  size: number;
  error?: ErrorRecord;
  /** SHA-256 in hex of a regular file's content, when WorkerSettings.digest asks for it. */
  digest?: string;
  /** With 'otherNames': the file's `dev:ino`. */
  inode?: string;
  /** Metadata not kept although the entry was copied: LOST_* bits of shared/xattrs.ts; absent or 0 for none. */
  lost?: number;
  /** With WorkerSettings.verify: the copy's content was read back and matched the source's. */
  verified?: ReadFrom;
  /** With WorkerSettings.backup: the entry it replaced was kept aside. */
  backedUp?: true;
  /**
   * With WorkerSettings.itemize, for an entry that was at the destination name: rsync's nine
   * attribute letters `cstpoguax` of what differed ('.' the same; worker/itemize.ts).
   */
  changes?: string;
  /** With WorkerSettings.itemize, for a symlink: its text, as lossless text (shared/raw-path.ts pathText). */
  linkText?: string;
  /** With WorkerSettings.digest: the stats its digest holds for, for the next run's record (shared/hash-state.ts). */
  state?: FileState;
}

const CODES: Record<Outcome, string> = {
  created: 'c',
  linked: 'k',
  overwritten: 'o',
  skipped: 's',
  failed: 'f',
  otherNames: 'n',
  large: 'l',
  largeForked: 'L',
  batchFull: 'b',
};
const OUTCOMES = new Map(Object.entries(CODES).map(([outcome, code]) => [code, outcome as Outcome]));
const VERIFIED_CODES: Record<ReadFrom, string> = { disk: 'd', cache: 'c', record: 'r' };
const NOT_VERIFIED = '-';
/** JobResult.changes: `cstpoguax`. */
const ATTRIBUTE_LETTERS = 9;

/** Results of a worker's batch as they come, until take() puts them in a message. */
export class ResultsEncoder {
  private count = 0;
  private outcomes = '';
  private sizes: number[] = [];
  private failures: FilesDone['failures'] = [];
  private inodes: FilesDone['inodes'] = [];
  private digests: string[] = [];
  private lost: NonNullable<FilesDone['lost']> = [];
  private verified = '';
  private backedUp: number[] = [];
  private itemized: string[] = [];
  private states: NonNullable<FilesDone['states']> = [];

  constructor(
    private readonly withDigests: boolean,
    private readonly withVerified = false,
    private readonly withItemized = false,
  ) {}

  add(result: JobResult): void {
    const index = this.count++;
    this.outcomes += CODES[result.outcome];
    this.sizes.push(result.size);
    if (result.error) this.failures.push({ index, error: result.error });
    if (result.inode !== undefined) this.inodes.push({ index, inode: result.inode });
    if (this.withDigests) this.digests.push(result.digest ?? '');
    if (result.lost) this.lost.push({ index, lost: result.lost });
    if (this.withVerified) this.verified += result.verified ? VERIFIED_CODES[result.verified] : NOT_VERIFIED;
    if (result.backedUp) this.backedUp.push(index);
    if (this.withItemized) this.itemized.push(result.changes === undefined ? '' : result.changes + (result.linkText ?? ''));
    if (result.state) this.states.push({ index, state: result.state });
  }

  get pending(): number {
    return this.count;
  }

  take(batchId: number): FilesDone {
    const message: FilesDone = {
      type: 'filesDone',
      batchId,
      count: this.count,
      outcomes: this.outcomes,
      sizes: this.sizes,
      failures: this.failures,
      inodes: this.inodes,
    };
    if (this.withDigests) message.digests = this.digests;
    if (this.lost.length > 0) message.lost = this.lost;
    if (this.withVerified) message.verified = this.verified;
    if (this.withItemized) {
      message.itemized = this.itemized;
      this.itemized = [];
    }
    if (this.backedUp.length > 0) {
      message.backedUp = this.backedUp;
      this.backedUp = [];
    }
    if (this.states.length > 0) {
      message.states = this.states;
      this.states = [];
    }
    this.count = 0;
    this.verified = '';
    this.outcomes = '';
    this.sizes = [];
    this.failures = [];
    this.inodes = [];
    this.digests = [];
    if (this.lost.length > 0) this.lost = [];
    return message;
  }
}

/** The results a FilesDone message carries, in job order; throws on a message that does not decode. */
export function decodeResults(message: FilesDone): JobResult[] {
  if (message.outcomes.length !== message.count) throw new TypeError(`${message.count} results, but ${message.outcomes.length} outcomes`);
  const results: JobResult[] = [];
  for (let index = 0; index < message.count; index++) {
    const outcome = OUTCOMES.get(message.outcomes[index]!);
    if (outcome === undefined) throw new TypeError(`unknown outcome code ${JSON.stringify(message.outcomes[index])}`);
    const result: JobResult = { outcome, size: message.sizes[index] ?? 0 };
    const digest = message.digests?.[index];
    if (digest) result.digest = digest;
    const verified = message.verified?.[index];
    if (verified === VERIFIED_CODES.disk) result.verified = 'disk';
    else if (verified === VERIFIED_CODES.cache) result.verified = 'cache';
    else if (verified === VERIFIED_CODES.record) result.verified = 'record';
    const itemized = message.itemized?.[index];
    if (itemized) {
      result.changes = itemized.slice(0, ATTRIBUTE_LETTERS);
      if (itemized.length > ATTRIBUTE_LETTERS) result.linkText = itemized.slice(ATTRIBUTE_LETTERS);
    }
    results.push(result);
  }
  for (const { index, error } of message.failures) resultAt(results, index).error = error;
  for (const { index, inode } of message.inodes) resultAt(results, index).inode = inode;
  for (const { index, lost } of message.lost ?? []) resultAt(results, index).lost = lost;
  for (const index of message.backedUp ?? []) resultAt(results, index).backedUp = true;
  for (const { index, state } of message.states ?? []) resultAt(results, index).state = state;
  return results;
}

function resultAt(results: JobResult[], index: number): JobResult {
  const result = results[index];
  if (!result) throw new TypeError(`no result at index ${index} of ${results.length}`);
  return result;
}
