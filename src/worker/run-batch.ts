/**
 * Runs one batch: each job in order, confirming finished jobs as it goes. A
 * stateless executor: it keeps nothing between batches, and talks only through
 * the messages of shared/protocol.ts. The worker process (worker.ts) runs it
 * for the batches its parent sends; the parent runs it itself for the first
 * small batches of a run (pool/inline-worker.ts), before a fork would pay.
 */
import { isAbsolute } from 'node:path';
import { errorRecord } from '../shared/errors.js';
import type { FileJob, Job } from '../shared/jobs.js';
import { isLargeFile } from '../shared/jobs.js';
import { ResultsEncoder, type CopyBatch, type FromWorker, type JobResult } from '../shared/protocol.js';
import { joinRaw, type RawPath } from '../shared/raw-path.js';
import { copyFile } from './copy-file.js';
import { temporary } from './write-file.js';
import { copySymlink, linkSecondName } from './copy-link.js';
import { LinkDests } from './link-dest.js';
import { failed, isWrite, jobPaths, type BatchContext, type FileCopy } from './job-result.js';
import { pathOf, type Place } from './places.js';
import { Destination, Directories, rootFilePlace } from './trees.js';

const COPY_BUFFER_BYTES = 256 * 1024;
// Long batches confirm progress this often, so a crash re-runs little and the bar keeps moving;
// a large file reports its bytes at the same pace.
const REPORT_INTERVAL_MS = 100;
// Once a batch has written this much, the rest is handed back ('batchFull') to be
// batched again: bytes bound the time one batch holds a worker, and a crash's re-run.
const BATCH_MAX_BYTES = 4 * 1024 * 1024;
const BATCH_FULL: JobResult = Object.freeze({ outcome: 'batchFull', size: 0 });

let buffer: Buffer | undefined;

/** What the batch needs of the process running it. */
export interface BatchRunner {
  /** Its pid: temporary names carry it, so a dead worker's leftovers can be swept. */
  pid: number;
  /** The parent runs the batch itself (BatchContext.inParent). */
  inParent?: true;
  send(message: FromWorker): void;
  /**
   * Between chunks of a large file, and with the temporary file being written
   * (a path that names it from anywhere; null once it is done): a worker whose
   * parent is gone leaves, removing it.
   */
  largeFileStep(temporary: RawPath | null): void;
}

/** What every job of one batch runs with, made once per batch. */
interface BatchRun {
  batch: CopyBatch;
  sources: Directories;
  context: BatchContext;
  runner: BatchRunner;
}

export async function runBatch(batch: CopyBatch, runner: BatchRunner): Promise<void> {
  buffer ??= Buffer.allocUnsafe(COPY_BUFFER_BYTES);
  const place = new Destination(absolute(batch.destination, batch.cwd), isSingleFile(batch));
  const linkDests = batch.settings.linkDest ? new LinkDests(batch.settings.linkDest) : undefined;
  const context: BatchContext = {
    settings: batch.settings,
    place,
    buffer,
    pid: runner.pid,
    ...(runner.inParent && { inParent: true as const }),
    ...(linkDests && { linkDests }),
  };
  // Sources are read through their directories' descriptors too: a source directory swapped for a
  // symlink (to /etc, say, under a backup run as root) is not read through.
  const sources = new Directories(absolute(batch.source, batch.cwd), { lookUpOnly: true });
  const results = new ResultsEncoder(batch.settings.digest, batch.settings.verify, batch.settings.itemize === true);
  const run: BatchRun = { batch, sources, context, runner };
  let lastConfirm = performance.now();
  let bytesWritten = 0;
  try {
    for (let index = 0; index < batch.jobs.length; index++) {
      const job = batch.jobs[index]!;
      const running = bytesWritten >= BATCH_MAX_BYTES ? BATCH_FULL : runJob(job, run);
      // Only a large file is a promise: awaiting every job would cost each a turn of the event loop.
      const result = running instanceof Promise ? await running : running;
      results.add(result);
      if (isWrite(result) && !batch.settings.dryRun) bytesWritten += result.size;
      if (performance.now() - lastConfirm >= REPORT_INTERVAL_MS) {
        runner.send(results.take(batch.batchId));
        lastConfirm = performance.now();
      }
    }
  } finally {
    place.close();
    sources.close();
    linkDests?.close();
  }
  if (results.pending > 0) runner.send(results.take(batch.batchId));
}

function runJob(job: Job, { batch, sources, context, runner }: BatchRun): JobResult | Promise<JobResult> {
  const final = joinRaw(batch.destination, job.path);
  // A second name of a hard link is linked to its first name's copy: nothing of the source is read.
  if (job.kind === 'hardlink') return linkSecondName(job, { final }, context);
  // A dry run looks only where something may already be; elsewhere the directory may not exist yet.
  const to = batch.settings.dryRun && !job.mayExist ? NOWHERE : destinationPlace(job, context);
  if (to instanceof Error) return failed(errorRecord(to, 'write', final));
  const source = joinRaw(batch.source, job.path);
  let from: Place;
  try {
    // A single-file copy's source (named '') is the root itself: a symlink the user named is followed, as a directory root is.
    from = job.path === '' ? singleSource(batch, sources) : sources.place(job.path);
  } catch (error) {
    // ELOOP or ENOTDIR: a source directory on the way was replaced (by a symlink) since it was listed.
    return failed(errorRecord(error, 'read', source));
  }
  const paths = jobPaths({ source, final, relative: job.path, from, to });
  if (job.kind === 'symlink') return copySymlink(job, paths, context);
  // In the parent, a large file is cloned at once or handed back: synchronous, like any other.
  return isLargeFile(job) && !context.inParent ? copyLarge(job, paths, context, { batchId: batch.batchId, runner }) : copyFile(job, paths, context);
}

/** A dry run's place for an entry whose directory the run would make: never reached (nothing may be there). */
const NOWHERE: Place = Object.freeze({ dir: Object.freeze({ fd: -1, path: '/nonexistent' }), name: '' });

function destinationPlace(job: Job, context: BatchContext): Place | Error {
  try {
    return context.place.place(job.path);
  } catch (error) {
    // ELOOP or ENOTDIR: a directory on the way was replaced (by a symlink) since it was made.
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** A single file's source, by its real path: its directories are opened for this job alone, and closed with the batch. */
function singleSource(batch: CopyBatch, sources: Directories): Place {
  const { place, directories } = rootFilePlace(absolute(batch.source, batch.cwd));
  sources.adopt(directories);
  return place;
}

/** A large file, alone in its batch: its progress reported as it is written. */
async function copyLarge(job: FileJob, file: FileCopy, context: BatchContext, { batchId, runner }: { batchId: number; runner: BatchRunner }): Promise<JobResult> {
  const temporaryPath = pathOf(temporary(file, context));
  const temporaryName = typeof temporaryPath === 'string' ? temporaryPath : temporaryPath.toString('latin1');
  let lastReport = performance.now();
  runner.largeFileStep(temporaryName);
  file.onBytes = (bytes) => {
    runner.largeFileStep(temporaryName);
    if (performance.now() - lastReport < REPORT_INTERVAL_MS) return;
    lastReport = performance.now();
    runner.send({ type: 'fileProgress', batchId, bytes });
  };
  try {
    return await copyFile(job, file, context);
  } finally {
    runner.largeFileStep(null);
  }
}

/** A single-file copy has one job, named '': the destination is the file itself. */
function isSingleFile(batch: CopyBatch): boolean {
  return batch.jobs.length === 1 && batch.jobs[0]!.path === '';
}

function absolute(root: RawPath, cwd: RawPath): RawPath {
  return isAbsolute(root) ? root : joinRaw(cwd, root);
}
