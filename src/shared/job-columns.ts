/**
 * A batch's jobs as they cross the process boundary: columns, not an object
 * per job. Node's IPC channel sends JSON, and a JSON object per job cost about
 * 0.8 µs a job to write in the parent and 1 µs to read in the worker (256-job
 * batches, measured); as a few strings it is a third of that each way, and 20
 * bytes a job instead of 54. Only forked workers get this form: the parent's
 * own batches (pool/inline-worker.ts) keep their objects.
 */
import type { RecordedHash } from './hash-state.js';
import type { FileJob, Job } from './jobs.js';
import type { CopyBatch } from './protocol.js';
import type { RawPath } from './raw-path.js';

/** A CopyBatch as it travels to a forked worker. */
export interface CopyBatchOnWire extends Omit<CopyBatch, 'jobs'> {
  jobs: JobColumns;
}

interface JobColumns {
  /** One character per job: its kind (KIND_CODES). */
  kinds: string;
  /** One character per job: its flags (FLAG_*), as the character FLAGS_BASE + the bits. */
  flags: string;
  /** The paths, joined by NUL, the one character no name holds. */
  paths: string;
  /** Each hard link's target, in the order of the hard links. */
  targets: RawPath[];
  /** The files carrying a previous run's hash record, by index. */
  recorded: Array<{ index: number; recorded: RecordedHash }>;
}

const KIND_CODES = { file: 'f', symlink: 's', hardlink: 'h' } as const;
const FLAG_MAY_EXIST = 1;
const FLAG_FIRST_NAME = 2;
const FLAG_LARGE = 4;
const FLAG_FORKED = 8;
// '0' to '?': printable, and never escaped in JSON.
const FLAGS_BASE = 48;
const SEPARATOR = '\0';

export function batchToWire(batch: CopyBatch): CopyBatchOnWire {
  return { ...batch, jobs: encodeJobs(batch.jobs) };
}

/** The batch a forked worker runs; throws on jobs that do not decode. */
export function batchFromWire(message: CopyBatchOnWire): CopyBatch {
  return { ...message, jobs: decodeJobs(message.jobs) };
}

function encodeJobs(jobs: readonly Job[]): JobColumns {
  let kinds = '';
  let flags = '';
  const paths = new Array<RawPath>(jobs.length);
  const targets: RawPath[] = [];
  const recorded: JobColumns['recorded'] = [];
  for (let index = 0; index < jobs.length; index++) {
    const job = jobs[index]!;
    kinds += KIND_CODES[job.kind];
    let bits = job.mayExist ? FLAG_MAY_EXIST : 0;
    if (job.kind === 'file') {
      if (job.firstName) bits |= FLAG_FIRST_NAME;
      if (job.large) bits |= FLAG_LARGE;
      if (job.forked) bits |= FLAG_FORKED;
      if (job.recorded) recorded.push({ index, recorded: job.recorded });
    } else if (job.kind === 'hardlink') targets.push(job.target);
    flags += String.fromCharCode(FLAGS_BASE + bits);
    paths[index] = job.path;
  }
  return { kinds, flags, paths: paths.join(SEPARATOR), targets, recorded };
}

/** The jobs again, as encodeJobs was given them; throws on columns that do not agree. */
function decodeJobs(columns: JobColumns): Job[] {
  const { kinds, flags } = columns;
  const paths = columns.paths.split(SEPARATOR);
  if (flags.length !== kinds.length || paths.length !== Math.max(kinds.length, 1)) {
    throw new TypeError(`${kinds.length} jobs, but ${flags.length} flags and ${paths.length} paths`);
  }
  const jobs = new Array<Job>(kinds.length);
  let target = 0;
  for (let index = 0; index < kinds.length; index++) {
    const bits = flags.charCodeAt(index) - FLAGS_BASE;
    const path = paths[index]!;
    const kind = kinds[index];
    let job: Job;
    if (kind === KIND_CODES.file) job = fileJob(path, bits);
    else if (kind === KIND_CODES.symlink) job = bits & FLAG_MAY_EXIST ? { kind: 'symlink', path, mayExist: true } : { kind: 'symlink', path };
    else if (kind === KIND_CODES.hardlink) {
      const to = columns.targets[target++];
      if (to === undefined) throw new TypeError(`no target for the hard link at index ${index}`);
      job = bits & FLAG_MAY_EXIST ? { kind: 'hardlink', path, target: to, mayExist: true } : { kind: 'hardlink', path, target: to };
    } else throw new TypeError(`unknown job kind ${JSON.stringify(kind)}`);
    jobs[index] = job;
  }
  for (const { index, recorded } of columns.recorded) {
    const job = jobs[index];
    if (job?.kind !== 'file') throw new TypeError(`a hash record for index ${index}, which is no file`);
    job.recorded = recorded;
  }
  return jobs;
}

/** The usual file job (at most mayExist) made whole at once; the rare flags added after. */
function fileJob(path: RawPath, bits: number): FileJob {
  const job: FileJob = bits & FLAG_MAY_EXIST ? { kind: 'file', path, mayExist: true } : { kind: 'file', path };
  if (bits & FLAG_FIRST_NAME) job.firstName = true;
  if (bits & FLAG_LARGE) job.large = true;
  if (bits & FLAG_FORKED) job.forked = true;
  return job;
}
