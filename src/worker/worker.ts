/**
 * The worker process: a stateless executor. It copies the batches the parent
 * sends, in order, and confirms finished jobs over the IPC channel. It keeps
 * nothing between batches and never prints; the parent owns all state and output.
 * It imports only shared/: the parent's modules never load here.
 */
import type { FileJob, Job } from '../shared/jobs.js';
import { isLargeFile } from '../shared/jobs.js';
import { isToWorker, ResultsEncoder, type CopyBatch, type FromWorker, type JobResult } from '../shared/protocol.js';
import { joinRaw } from '../shared/raw-path.js';
import { discardWrite } from '../shared/temp-name.js';
import { copyFile, copyLargeFile } from './copy-file.js';
import { copySymlink, linkSecondName } from './copy-link.js';
import { isWrite, type BatchContext } from './job-result.js';

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
let largeFileInProgress: { batch: CopyBatch; job: Job } | null = null;

process.umask(0);
// Ctrl-C reaches the whole process group; the parent decides how to stop.
process.on('SIGINT', () => {});
// The parent that forked us: another ppid means it died and this process was re-parented.
const parentPid = process.ppid;

/** The parent is gone or done: leave no temporary file of a large copy behind, and no orphan. */
function leave(): never {
  if (largeFileInProgress) {
    const { batch, job } = largeFileInProgress;
    discardWrite(joinRaw(batch.destination, job.path), process.pid, batch.settings.staged);
  }
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
  const results = new ResultsEncoder(batch.settings.digest);
  let lastConfirm = performance.now();
  let bytesWritten = 0;
  for (let index = 0; index < batch.jobs.length; index++) {
    const job = batch.jobs[index]!;
    const result = bytesWritten >= BATCH_MAX_BYTES ? BATCH_FULL : isLargeFile(job) ? await copyLarge(batch, job) : copyJob(job, batch);
    results.add(result);
    if (isWrite(result) && !batch.settings.dryRun) bytesWritten += result.size;
    if (performance.now() - lastConfirm >= REPORT_INTERVAL_MS) {
      send(results.take(batch.batchId));
      lastConfirm = performance.now();
    }
  }
  if (results.pending > 0) send(results.take(batch.batchId));
}

function copyJob(job: Job, context: BatchContext): JobResult {
  switch (job.kind) {
    case 'file':
      return copyFile(job, context, buffer, process.pid);
    case 'symlink':
      return copySymlink(job, context, process.pid);
    case 'hardlink':
      return linkSecondName(job, context, buffer, process.pid);
  }
}

async function copyLarge(batch: CopyBatch, job: FileJob): Promise<JobResult> {
  largeFileInProgress = { batch, job };
  let lastReport = performance.now();
  try {
    return await copyLargeFile(job, batch, buffer, process.pid, (bytes) => {
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

function send(message: FromWorker): void {
  // A failed send means the channel is closing; the 'disconnect' handler ends this process.
  process.send?.(message, undefined, undefined, () => {});
}
