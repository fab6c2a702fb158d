/**
 * The worker process: a stateless executor. It copies the batches the parent
 * sends, in order, and confirms finished jobs over the IPC channel. It keeps
 * nothing between batches and never prints; the parent owns all state and output.
 */
import { copyJob, copyLargeFile, type JobResult } from './copy-file.js';
import type { CopyBatchMessage, FileJob, FilesDoneMessage, Job, WorkerMessage } from './protocol.js';
import { isLargeFile, isParentMessage, OUTCOME } from './protocol.js';
import { joinRaw } from './raw-path.js';
import { discardWrite } from './temp-name.js';

const COPY_BUFFER_BYTES = 256 * 1024;
// Long batches confirm progress this often, so a crash re-runs little and the bar keeps moving;
// a large file reports its bytes at the same pace.
const REPORT_INTERVAL_MS = 100;
// Once a batch has written this much, the rest is handed back (OUTCOME.deferred) to be
// batched again: bytes bound the time one batch holds a worker, and a crash's re-run.
const BATCH_MAX_BYTES = 4 * 1024 * 1024;

const buffer = Buffer.allocUnsafe(COPY_BUFFER_BYTES);
const pending: CopyBatchMessage[] = [];
let running = false;
let largeFileInProgress: { batch: CopyBatchMessage; job: Job } | null = null;

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
  if (!isParentMessage(message)) throw new TypeError(`foldercopy worker: unexpected message ${JSON.stringify(message)}`);
  pending.push(message);
  if (!running) void runPending();
});
send({ type: 'ready' });

async function runPending(): Promise<void> {
  running = true;
  for (let batch = pending.shift(); batch; batch = pending.shift()) await runBatch(batch);
  running = false;
}

async function runBatch(batch: CopyBatchMessage): Promise<void> {
  let confirmed = 0;
  let outcomes = '';
  let sizes: number[] = [];
  let failures: FilesDoneMessage['failures'] = [];
  let linked: FilesDoneMessage['linked'] = [];
  let digests: string[] = [];
  let lastConfirm = performance.now();
  let bytesWritten = 0;
  const confirm = (upTo: number): void => {
    const message: FilesDoneMessage = { type: 'filesDone', batchId: batch.batchId, count: upTo - confirmed, outcomes, sizes, failures, linked };
    if (batch.settings.digest) message.digests = digests;
    send(message);
    confirmed = upTo;
    outcomes = '';
    sizes = [];
    failures = [];
    linked = [];
    digests = [];
    lastConfirm = performance.now();
  };
  for (let index = 0; index < batch.jobs.length; index++) {
    if (bytesWritten >= BATCH_MAX_BYTES) {
      outcomes += OUTCOME.deferred;
      sizes.push(0);
      if (batch.settings.digest) digests.push('');
      continue;
    }
    const job = batch.jobs[index]!;
    const result = isLargeFile(job) ? await copyLarge(batch, job) : copyJob(job, batch, buffer, process.pid);
    outcomes += result.outcome;
    sizes.push(result.size);
    if (result.error) failures.push({ index, error: result.error });
    if (result.inode !== undefined) linked.push({ index, inode: result.inode });
    if (batch.settings.digest) digests.push(result.digest ?? '');
    if ((result.outcome === OUTCOME.created || result.outcome === OUTCOME.overwritten) && !batch.settings.dryRun) bytesWritten += result.size;
    if (performance.now() - lastConfirm >= REPORT_INTERVAL_MS) confirm(index + 1);
  }
  if (confirmed < batch.jobs.length) confirm(batch.jobs.length);
}

async function copyLarge(batch: CopyBatchMessage, job: FileJob): Promise<JobResult> {
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

function send(message: WorkerMessage): void {
  // A failed send means the channel is closing; the 'disconnect' handler ends this process.
  process.send?.(message, undefined, undefined, () => {});
}
