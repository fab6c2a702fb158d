/**
 * The worker process: a stateless executor. It runs the batches the parent
 * sends, in order (run-batch.ts), and confirms finished jobs over the IPC
 * channel. It keeps nothing between batches and never prints; the parent owns
 * all state and output. It imports only shared/ and worker/: the parent's
 * modules never load here.
 */
import { coreWaitMs } from '../shared/core-wait.js';
import { fsPath, type RawPath } from '../shared/raw-path.js';
import { isToWorker, type CopyBatch, type FromWorker } from '../shared/protocol.js';
import { unlinkQuietly } from '../shared/unlink-quietly.js';
import { runBatch, type BatchRunner } from './run-batch.js';

const pending: CopyBatch[] = [];
let running = false;
/** The temporary file of the large copy in progress, by a path that names it from anywhere. */
let largeFileInProgress: RawPath | null = null;

process.umask(0);
// Ctrl-C reaches the whole process group, and a closed terminal's hangup too: the parent decides how to stop.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
// The parent that forked us: another ppid means it died and this process was re-parented.
const parentPid = process.ppid;

const runner: BatchRunner = {
  pid: process.pid,
  send,
  largeFileStep(temporary) {
    largeFileInProgress = temporary;
    // The block loop is synchronous, so 'disconnect' cannot run before it ends:
    // between chunks, check (getppid(), cheap) that the parent is still there.
    if (temporary !== null && process.ppid !== parentPid) leave();
  },
};

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
  for (let batch = pending.shift(); batch; batch = pending.shift()) await runBatch(batch, runner);
  running = false;
}

let cpuAtLastConfirmation = process.cpuUsage();
let waitAtLastConfirmation = coreWaitMs();

function send(message: FromWorker): void {
  if (message.type === 'filesDone') {
    const cpu = process.cpuUsage();
    message.cpuMs = (cpu.user - cpuAtLastConfirmation.user + cpu.system - cpuAtLastConfirmation.system) / 1000;
    cpuAtLastConfirmation = cpu;
    const wait = coreWaitMs();
    message.waitMs = wait - waitAtLastConfirmation;
    waitAtLastConfirmation = wait;
  }
  // A failed send means the channel is closing; the 'disconnect' handler ends this process.
  process.send?.(message, undefined, undefined, () => {});
}
