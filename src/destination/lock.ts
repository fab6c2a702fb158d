/**
 * One writing run at a time per destination. Two runs copying into the same
 * place would each stage a copy and the second could never rename its own into
 * place, or they would overwrite each other's files. So a run that writes holds
 * a lock file beside the destination, `.<name>.foldercopy-lock`, created
 * exclusively (O_CREAT|O_EXCL) and holding the owner's pid:
 *  - held by a live process: the run is refused, naming that pid;
 *  - held by a dead one (killed, crashed), or unreadable and old: taken over;
 *  - cannot be created for another reason (a read-only or foreign parent): the
 *    run goes on without it, and the copy reports its own errors.
 * The owner removes it when the run ends, or when its process exits
 * (process.exit() on a second Ctrl-C), and never removes one that is not its own.
 */
import fs from 'node:fs';
import { FoldercopyError } from '../shared/errors.js';
import { fsPath, type RawPath } from '../shared/raw-path.js';

export const LOCK_NAME_SUFFIX = '.foldercopy-lock';
/** `.<name>.foldercopy-lock`: what a sweep or a --delete pass should leave alone. */
export const LOCK_NAME = /^\..*\.foldercopy-lock$/s;
// As for temporary names: leaves room for the dot and the suffix within the usual 255-byte limit.
const MAX_NAME_BYTES_KEPT = 200;
// A lock without a pid in it is one a run has just created and is about to write, unless it is this old.
const UNREADABLE_LOCK_STALE_MS = 5_000;
// How long to wait for that pid to be written before refusing without it.
const PID_WAIT_MS = 500;
const PID_POLL_MS = 20;
// Creating the lock again after its holder released it or was found dead: bounded, two runs can keep racing.
const MAX_ATTEMPTS = 3;

export function lockPathFor(destination: RawPath): RawPath {
  const nameStart = destination.lastIndexOf('/') + 1;
  const name = destination.slice(nameStart, nameStart + MAX_NAME_BYTES_KEPT);
  return `${destination.slice(0, nameStart)}.${name}${LOCK_NAME_SUFFIX}`;
}

/** A process with that pid exists (EPERM: it does, and belongs to another user). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type Holder =
  | { state: 'gone' }
  | { state: 'live'; pid: number }
  | { state: 'dead'; pid: number }
  /** No pid in it yet: just created by a run that is about to write it. */
  | { state: 'starting' }
  /** No pid in it, and old: left by a run that died between creating and writing it. */
  | { state: 'abandoned' };

const held = new Set<DestinationLock>();
let exitHookInstalled = false;

export class DestinationLock {
  private constructor(readonly path: RawPath) {}

  /**
   * Takes the lock of `destination` (the path the run writes, symlinks resolved).
   * Throws a FoldercopyError (DESTINATION_BUSY) when a live run holds it; returns
   * null when no lock file can be made there at all.
   * `shownDestination` is the destination as the user named it, for the message.
   */
  static take(destination: RawPath, shownDestination: string): DestinationLock | null {
    const path = lockPathFor(destination);
    let tookOver = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const created = create(path);
      if (created === 'created') return DestinationLock.hold(path);
      if (created === 'failed') return null;
      const holder = inspect(path);
      switch (holder.state) {
        case 'gone':
          // Released between our attempt and our look: try again.
          continue;
        case 'live':
          throw busy(shownDestination, holder.pid);
        case 'starting':
          throw busy(shownDestination, undefined);
        case 'dead':
        case 'abandoned': {
          // Taken over once: if another run won the lock meanwhile, it is refused below, naming the winner.
          if (tookOver) throw busy(shownDestination, holder.state === 'dead' ? holder.pid : undefined);
          tookOver = true;
          const result = removeStale(path);
          if (result === 'failed') return null;
          if (result !== 'removed') throw busy(shownDestination, result.pid);
        }
      }
    }
    const last = inspect(path);
    throw busy(shownDestination, last.state === 'live' || last.state === 'dead' ? last.pid : undefined);
  }

  private static hold(path: RawPath): DestinationLock {
    const lock = new DestinationLock(path);
    held.add(lock);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      // Synchronous, and run on process.exit() too: the CLI's second Ctrl-C leaves that way.
      process.on('exit', () => {
        for (const lock of held) lock.release();
      });
    }
    return lock;
  }

  /** Removes the lock file if it is still ours; safe to call more than once. */
  release(): void {
    if (!held.delete(this)) return;
    const holder = readHolder(this.path);
    if ((holder.state === 'live' || holder.state === 'dead') && holder.pid === process.pid) unlinkQuietly(this.path);
  }
}

/** Creates the lock holding our pid; 'exists' when a lock is there, 'failed' when none can be made. */
function create(path: RawPath): 'created' | 'exists' | 'failed' {
  let fd: number;
  try {
    fd = fs.openSync(fsPath(path), 'wx', 0o644);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EEXIST' ? 'exists' : 'failed';
  }
  try {
    fs.writeSync(fd, `${process.pid}\n`);
  } catch {
    // A full destination: an empty lock would read as abandoned later; leave none.
    fs.closeSync(fd);
    unlinkQuietly(path);
    return 'failed';
  }
  fs.closeSync(fd);
  return 'created';
}

/** Who holds the lock; a lock without a pid yet is given a moment to get one. */
function inspect(path: RawPath): Holder {
  const deadline = Date.now() + PID_WAIT_MS;
  for (;;) {
    const holder = readHolder(path);
    if (holder.state !== 'starting' || Date.now() >= deadline) return holder;
    sleepSync(PID_POLL_MS);
  }
}

function readHolder(path: RawPath): Holder {
  let fd: number;
  try {
    fd = fs.openSync(fsPath(path), 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'gone' };
    // Unreadable (another user's, a broken file system): judged by its age alone.
    const stats = fs.lstatSync(fsPath(path), { throwIfNoEntry: false });
    return stats === undefined ? { state: 'gone' } : withoutPid(stats.mtimeMs);
  }
  try {
    const stats = fs.fstatSync(fd);
    const buffer = Buffer.alloc(32);
    const text = buffer.toString('latin1', 0, fs.readSync(fd, buffer, 0, buffer.length, 0));
    const pid = /^(\d{1,10})\n?$/.exec(text)?.[1];
    const number = Number(pid);
    if (pid === undefined || number < 1 || number > 0x7fffffff) return withoutPid(stats.mtimeMs);
    return { state: isRunning(number) ? 'live' : 'dead', pid: number };
  } catch {
    return { state: 'starting' };
  } finally {
    fs.closeSync(fd);
  }
}

function withoutPid(mtimeMs: number): Holder {
  return { state: Date.now() - mtimeMs > UNREADABLE_LOCK_STALE_MS ? 'abandoned' : 'starting' };
}

/**
 * Removes a lock found stale. Another run may have taken it over first and put a
 * fresh lock of its own there, which an unlink would destroy: so the lock is
 * first moved aside under a name of ours and checked there; a live one is put back.
 */
function removeStale(path: RawPath): 'removed' | 'failed' | { pid: number | undefined } {
  const aside = `${path}.${process.pid}`;
  try {
    fs.renameSync(fsPath(path), fsPath(aside));
  } catch (error) {
    // Gone already (another run removed it): the exclusive create decides who wins.
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'removed' : 'failed';
  }
  const holder = readHolder(aside);
  if (holder.state === 'dead' || holder.state === 'abandoned' || holder.state === 'gone') {
    unlinkQuietly(aside);
    return 'removed';
  }
  putBack(aside, path);
  return { pid: holder.state === 'live' ? holder.pid : undefined };
}

/** Back under its name, without replacing a lock made meanwhile (link fails if one is there). */
function putBack(aside: RawPath, path: RawPath): void {
  try {
    fs.linkSync(fsPath(aside), fsPath(path));
    unlinkQuietly(aside);
  } catch (error) {
    // No hard links on this file system: a rename, which could replace a lock made in the last microseconds.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') unlinkQuietly(aside);
    else {
      try {
        fs.renameSync(fsPath(aside), fsPath(path));
      } catch {
        unlinkQuietly(aside);
      }
    }
  }
}

function busy(destination: string, pid: number | undefined): FoldercopyError {
  const who = pid === undefined ? 'another foldercopy run' : `another foldercopy run (pid ${pid})`;
  return new FoldercopyError('DESTINATION_BUSY', `${who} is copying into ${destination}; wait for it to finish or stop it`, destination);
}

function unlinkQuietly(path: RawPath): void {
  try {
    fs.unlinkSync(fsPath(path));
  } catch {
    // Gone already.
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
