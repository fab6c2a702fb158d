// A foldercopy worker with faults injected, for the pool tests (PoolOptions.workerPath).
// Plain ESM so the pool can fork it as is. Each behaviour is keyed by an environment variable,
// which the forked worker inherits from the test process:
//   FOLDERCOPY_TEST_FORK_LOG=<file>         appends this process's pid to <file> at start-up (counts forks)
//   FOLDERCOPY_TEST_EXIT_AT_START=<code>    exits with <code> before the worker is ready
//   FOLDERCOPY_TEST_KILL_AT_FORK=<n>        with FORK_LOG: the n-th fork SIGKILLs itself before it is ready
//   FOLDERCOPY_TEST_CRASH_ON=<rel path>     SIGKILLs itself when a batch holding that job arrives
//   FOLDERCOPY_TEST_UNLINK_BEFORE=<rel path> removes that source file when its batch arrives,
//                                           before the real worker sees the batch (a file that vanishes)
//   FOLDERCOPY_TEST_FIFO_BEFORE=<rel path>  replaces that source file with a FIFO when its batch arrives
//                                           (a file that changed type since it was listed)
//   FOLDERCOPY_TEST_MID_WRITE=1             with CRASH_ON: first leaves that job's temporary file, as a
//                                           worker killed in the middle of writing it would
//   FOLDERCOPY_TEST_ENV_LOG=<file>:<NAME>   appends the value of environment variable NAME, or (unset), to <file>
//   FOLDERCOPY_TEST_REWRITE_DURING_READ=<rel path>:<once|always>:<shrink|grow>
//                                           after the worker's first read of that source file, halves it
//                                           (shrink) or appends to it (grow): a file rewritten while it is
//                                           copied; 'once' for the first attempt only, 'always' for each
//                                           (on the fs fallback, whose reads the seam sees)
//   FOLDERCOPY_TEST_LOSE_CONFIRMATION=<rel path>:<marker file>
//                                           drops the confirmation of the batch holding that job, once
//                                           (the marker records it), as a closed channel loses it
//   FOLDERCOPY_TEST_SLOW_OPEN=<ms>:<file>   every open waits <ms> first, as on a mount where each request
//                                           takes a round trip, and each file created appends this pid to <file>
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const forkLog = process.env.FOLDERCOPY_TEST_FORK_LOG;
const exitAtStart = process.env.FOLDERCOPY_TEST_EXIT_AT_START;
const killAtFork = Number(process.env.FOLDERCOPY_TEST_KILL_AT_FORK ?? 0);
const crashOn = process.env.FOLDERCOPY_TEST_CRASH_ON;
const unlinkBefore = process.env.FOLDERCOPY_TEST_UNLINK_BEFORE;
const fifoBefore = process.env.FOLDERCOPY_TEST_FIFO_BEFORE;
const midWrite = process.env.FOLDERCOPY_TEST_MID_WRITE === '1';
const [envLog, envName] = (process.env.FOLDERCOPY_TEST_ENV_LOG ?? '').split(':');
const [loseConfirmationOf, loseMarker] = (process.env.FOLDERCOPY_TEST_LOSE_CONFIRMATION ?? '').split(':');
const [rewriteOf, rewriteWhen, rewriteHow] = (process.env.FOLDERCOPY_TEST_REWRITE_DURING_READ ?? '').split(':');

const [slowOpenMs, slowOpenLog] = (process.env.FOLDERCOPY_TEST_SLOW_OPEN ?? '').split(':');
if (slowOpenMs) {
  // The worker opens through libc (openat) where it can: on its fs fallback, every open is fs.openSync's.
  process.env.FOLDERCOPY_TEST_NO_NATIVE = '1';
  const openSync = fs.openSync;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  fs.openSync = function (path, flags, ...rest) {
    Atomics.wait(pause, 0, 0, Number(slowOpenMs));
    if (typeof flags === 'number' && (flags & fs.constants.O_CREAT) !== 0) fs.appendFileSync(slowOpenLog, `${process.pid}\n`);
    return openSync.call(this, path, flags, ...rest);
  };
}

if (rewriteOf) {
  // The block loop's reads are the ones to catch: copy_file_range, which the worker uses where it can,
  // reads nothing in the process; on the fs fallback a file is copied by the same loop with the same checks.
  process.env.FOLDERCOPY_TEST_NO_NATIVE = '1';
  // The worker's bundle calls fs.readSync on this same module object. A rewrite follows the first
  // read of each attempt at the file: a read that finds its end arms the next one ('always').
  const readSync = fs.readSync;
  let armed = true;
  fs.readSync = function (fd, ...rest) {
    const read = readSync.call(this, fd, ...rest);
    let target = '';
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {}
    if (!target.endsWith(`/${rewriteOf}`)) return read;
    if (read > 0 && armed) {
      armed = false;
      if (rewriteHow === 'grow') fs.appendFileSync(target, 'grown while read\n');
      else fs.truncateSync(target, Math.floor(fs.statSync(target).size / 2));
    }
    // A read shorter than asked for found the end: that attempt is over.
    if (rewriteWhen === 'always' && read < rest[2]) armed = true;
    return read;
  };
}

if (forkLog) fs.appendFileSync(forkLog, `${process.pid}\n`);
if (envLog) fs.appendFileSync(envLog, `${process.env[envName] ?? '(unset)'}\n`);
if (forkLog && killAtFork > 0 && fs.readFileSync(forkLog, 'utf8').trim().split('\n').length === killAtFork) {
  process.kill(process.pid, 'SIGKILL');
}
if (exitAtStart !== undefined && exitAtStart !== '') process.exit(Number(exitAtStart));

/** Paths in messages are "raw" strings, one char per byte (see src/shared/raw-path.ts). */
function rawBytes(raw) {
  return Buffer.from(raw, 'latin1');
}

// Registered before the real worker's listener, so it runs first for every message.
process.on('message', (message) => {
  if (typeof message !== 'object' || message === null || message.type !== 'copy') return;
  const paths = message.jobs.map((job) => job.path);
  if (unlinkBefore && paths.includes(unlinkBefore)) {
    fs.rmSync(rawBytes(`${message.source}/${unlinkBefore}`), { force: true });
  }
  if (fifoBefore && paths.includes(fifoBefore)) {
    fs.rmSync(rawBytes(`${message.source}/${fifoBefore}`));
    execFileSync('mkfifo', [`${message.source}/${fifoBefore}`]);
  }
  if (loseConfirmationOf && paths.includes(loseConfirmationOf) && !fs.existsSync(loseMarker)) {
    fs.writeFileSync(loseMarker, `${process.pid}\n`);
    losingBatch = message.batchId;
  }
  if (crashOn && paths.includes(crashOn)) {
    if (midWrite) {
      // tempPathFor's name (src/shared/names-on-disk.ts), spelled out: this script runs with only dist/ built.
      const slash = crashOn.lastIndexOf('/');
      const temp = `${crashOn.slice(0, slash + 1)}.${crashOn.slice(slash + 1)}.${process.pid}.foldercopy-part`;
      fs.writeFileSync(rawBytes(`${message.destination}/${temp}`), 'half of it');
    }
    process.kill(process.pid, 'SIGKILL');
  }
});

let losingBatch = -1;
const send = process.send.bind(process);
process.send = (message, ...rest) => (message?.type === 'filesDone' && message.batchId === losingBatch ? true : send(message, ...rest));

await import('../../dist/worker.js');
