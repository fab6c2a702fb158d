/**
 * The worker process: a stateless executor. It copies the batches the parent
 * sends, in order, and confirms finished jobs over the IPC channel. It keeps
 * nothing between batches and never prints; the parent owns all state and output.
 * It imports only shared/: the parent's modules never load here.
 */
import fs from 'node:fs';
import { isAbsolute } from 'node:path';
import { DirectoryHandles } from '../shared/directory-handles.js';
import { errorRecord } from '../shared/errors.js';
import type { FileJob, Job } from '../shared/jobs.js';
import { isLargeFile } from '../shared/jobs.js';
import { isToWorker, ResultsEncoder, type CopyBatch, type FromWorker, type JobResult } from '../shared/protocol.js';
import { fsPath, joinRaw, type FsPath, type RawPath } from '../shared/raw-path.js';
import { unlinkQuietly, writingPathFor } from '../shared/temp-name.js';
import { copyFile } from './copy-file.js';
import { copyLargeFile } from './copy-large-file.js';
import { copySymlink, linkSecondName } from './copy-link.js';
import { failed, isWrite, type BatchContext, type JobPaths } from './job-result.js';
import { WorkingDirectory } from './working-directory.js';

const COPY_BUFFER_BYTES = 256 * 1024;
// Long batches confirm progress this often, so a crash re-runs little and the bar keeps moving;
// a large file reports its bytes at the same pace.
const REPORT_INTERVAL_MS = 100;
// Once a batch has written this much, the rest is handed back ('batchFull') to be
// batched again: bytes bound the time one batch holds a worker, and a crash's re-run.
const BATCH_MAX_BYTES = 4 * 1024 * 1024;
const BATCH_FULL: JobResult = Object.freeze({ outcome: 'batchFull', size: 0 });

const buffer = Buffer.allocUnsafe(COPY_BUFFER_BYTES);
const pending: CopyBatch[] = [];
let running = false;
/** The temporary file of the large copy in progress, by its name in the working directory. */
let largeFileInProgress: RawPath | null = null;

process.umask(0);
// Ctrl-C and a closed terminal's SIGHUP reach the whole process group; the parent decides how to stop.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
// The parent that forked us: another ppid means it died and this process was re-parented.
const parentPid = process.ppid;

/** The parent is gone or done: leave no temporary file of a large copy behind, and no orphan. */
function leave(): never {
  if (largeFileInProgress !== null) unlinkQuietly(fsPath(largeFileInProgress));
  process.exit(0);
}
process.on('disconnect', leave);
process.on('message', (message: unknown) => {
  if (!isToWorker(message)) throw new TypeError(`foldercopy worker: unexpected message ${JSON.stringify(message)}`);
  pending.push(message);
  if (!running) void runPending();
});
send({ type: 'ready' });

async function runPending(): Promise<void> {
  running = true;
  for (let batch = pending.shift(); batch; batch = pending.shift()) await runBatch(batch);
  running = false;
}

async function runBatch(batch: CopyBatch): Promise<void> {
  const place = new WorkingDirectory(absolute(batch.destination, batch.cwd), isSingleFile(batch));
  const context: BatchContext = { settings: batch.settings, place };
  // Sources are read through their directories' descriptors too: a source directory swapped for a
  // symlink (to /etc, say, under a backup run as root) is not read through.
  const sources = new DirectoryHandles(absolute(batch.source, batch.cwd), { lookUpOnly: true });
  const results = new ResultsEncoder(batch.settings.digest);
  let lastConfirm = performance.now();
  let bytesWritten = 0;
  try {
    for (let index = 0; index < batch.jobs.length; index++) {
      const job = batch.jobs[index]!;
      const running = bytesWritten >= BATCH_MAX_BYTES ? BATCH_FULL : runJob(job, batch, sources, context);
      // Only a large file is a promise: awaiting every job would cost each a turn of the event loop.
      const result = running instanceof Promise ? await running : running;
      results.add(result);
      if (isWrite(result) && !batch.settings.dryRun) bytesWritten += result.size;
      if (performance.now() - lastConfirm >= REPORT_INTERVAL_MS) {
        send(results.take(batch.batchId));
        lastConfirm = performance.now();
      }
    }
  } finally {
    place.close();
    sources.closeAll();
  }
  if (results.pending > 0) send(results.take(batch.batchId));
}

function runJob(job: Job, batch: CopyBatch, sources: DirectoryHandles, context: BatchContext): JobResult | Promise<JobResult> {
  const final = joinRaw(batch.destination, job.path);
  let name: RawPath;
  try {
    // A dry run looks only where something may already be; elsewhere the directory may not exist yet.
    name = batch.settings.dryRun && !job.mayExist ? context.place.nameOf(job.path) : context.place.enter(job.path);
  } catch (error) {
    // ELOOP or ENOTDIR: a directory on the way was replaced (by a symlink) since it was made.
    return failed(errorRecord(error, 'write', final));
  }
  // A second name of a hard link is linked to its first name's copy: nothing of the source is read.
  if (job.kind === 'hardlink') return linkSecondName(job, { final, name }, context, buffer, process.pid);
  const source = joinRaw(batch.source, job.path);
  let sourceFs: FsPath;
  try {
    // A single-file copy's source (named '') is the root itself: a symlink the user named is followed, as a directory root is.
    sourceFs = job.path === '' ? fs.realpathSync(sources.entryPath(''), { encoding: 'buffer' }) : sources.entryPath(job.path);
  } catch (error) {
    // ELOOP or ENOTDIR: a source directory on the way was replaced (by a symlink) since it was listed.
    return failed(errorRecord(error, 'read', source));
  }
  const paths: JobPaths = { source, final, sourceFs, name };
  if (job.kind === 'symlink') return copySymlink(job, paths, context, process.pid);
  return isLargeFile(job) ? copyLarge(job, paths, context, batch) : copyFile(job, paths, context, buffer, process.pid);
}

async function copyLarge(job: FileJob, paths: JobPaths, context: BatchContext, batch: CopyBatch): Promise<JobResult> {
  largeFileInProgress = writingPathFor(paths.name, process.pid, batch.settings.staged);
  let lastReport = performance.now();
  try {
    return await copyLargeFile(job, paths, context, buffer, process.pid, (bytes) => {
      // The block loop is synchronous, so 'disconnect' cannot run before it ends:
      // between chunks, check (getppid(), cheap) that the parent is still there.
      if (process.ppid !== parentPid) leave();
      if (performance.now() - lastReport < REPORT_INTERVAL_MS) return;
      lastReport = performance.now();
      send({ type: 'fileProgress', batchId: batch.batchId, bytes });
    });
  } finally {
    largeFileInProgress = null;
  }
}

/** A single-file copy has one job, named '': the destination is the file itself. */
function isSingleFile(batch: CopyBatch): boolean {
  return batch.jobs.length === 1 && batch.jobs[0]!.path === '';
}

function absolute(root: RawPath, cwd: RawPath): RawPath {
  return isAbsolute(root) ? root : joinRaw(cwd, root);
}

function send(message: FromWorker): void {
  // A failed send means the channel is closing; the 'disconnect' handler ends this process.
  process.send?.(message, undefined, undefined, () => {});
}
