/**
 * One writing run at a time per destination. Two runs copying into the same
 * place would each stage a copy and the second could never rename its own into
 * place, or they would overwrite each other's files. So a run that writes holds
 * a lock file beside the destination, `.<name>.foldercopy-lock`, created
 * exclusively (O_CREAT|O_EXCL) and holding who owns it: pid, start time and user.
 *
 * The directory may be shared (a sticky /tmp, a group-writable backup share), so a
 * lock is trusted only when it names a live run: a process with that pid, started
 * at the recorded time (pids are reused), running as the recorded user, who also
 * owns the lock file. Then the run is refused, naming that pid and user. Anything
 * else (a dead holder, a planted file, a symlink, a FIFO) is taken over, and the
 * run says so in one line. A lock that cannot be created at all (a read-only or
 * foreign parent) lets the run go on without one; the copy reports its own errors.
 * The owner removes it when the run ends, or when its process exits
 * (process.exit() on a second Ctrl-C), and never removes one that is not its own.
 * A planned copy holds it in another form, naming its plan (plan-lock.ts): its own
 * runs go on, any other is refused until the plan's finalize removes it.
 */
import fs from 'node:fs';
import { FoldercopyError } from '../shared/errors.js';
import { lockAsidePathFor, lockPathFor } from '../shared/names-on-disk.js';
import { fsPath, type RawPath } from '../shared/raw-path.js';
import { unlinkQuietly } from '../shared/unlink-quietly.js';
import { parsePlanLock, planBusy, planLockText, PLAN_LOCK_MAX_BYTES, type PlanLock } from './plan-lock.js';
import { isSameRun, runIdentity, userName, type RunIdentity } from './run-identity.js';

// A lock of ours without its contents yet is one a run has just created and is about to write, unless it is this old.
const UNREADABLE_LOCK_STALE_MS = 5_000;
// How long to wait for those contents to be written before refusing without them.
const PID_WAIT_MS = 500;
const PID_POLL_MS = 20;
// Creating the lock again after its holder released it or was found stale: bounded, two runs can keep racing.
const MAX_ATTEMPTS = 3;
// Never follow a link planted at the lock's name, never block on a FIFO planted there.
const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
const READ_FLAGS = O_RDONLY | O_NOFOLLOW | O_NONBLOCK;

type Holder =
  | { state: 'gone' }
  | { state: 'live'; run: RunIdentity }
  /** Nothing that a live run holds: its holder is gone, or it was never a run's; `why` says which, for the message. */
  | { state: 'stale'; why: string }
  /** Ours, empty: just created by a run of this user that is about to write it. */
  | { state: 'starting' }
  /** A planned copy's, held from its planning to its finalize (plan-lock.ts). */
  | { state: 'planned'; plan: PlanLock };

const held = new Set<DestinationLock>();
let exitHookInstalled = false;

export interface TakeOptions {
  /** The path the run writes, symlinks resolved. */
  destination: RawPath;
  /** The destination as the user named it, for the message. */
  shownDestination: string;
  /** Told when a stale or forged lock is taken over: the message and the lock's path. */
  onTakeOver: (message: string, path: RawPath) => void;
}

export class DestinationLock {
  private constructor(
    readonly path: RawPath,
    private readonly owner: RunIdentity,
  ) {}

  /**
   * Takes the lock of the destination. Throws a FoldercopyError (DESTINATION_BUSY)
   * when a live run or a planned copy holds it; returns null when no lock file can be made there at all.
   */
  static take(options: TakeOptions): DestinationLock | null {
    // Our own process is always there to read.
    const self = runIdentity(process.pid)!;
    const path = lockPathFor(options.destination);
    const taken = acquire(path, `${self.pid} ${self.start} ${self.uid}\n`, options, undefined);
    return taken === 'created' ? DestinationLock.hold(path, self) : null;
  }

  /**
   * Takes the lock for a planned copy, or finds it already this plan's: held until the plan's finalize
   * (releasePlanLock), never released by this process. Refused as take() is, and for another plan.
   */
  static takeForPlan(options: TakeOptions & { plan: PlanLock }): void {
    acquire(lockPathFor(options.destination), planLockText(options.plan, process.geteuid?.() ?? 0), options, options.plan.id);
  }

  private static hold(path: RawPath, owner: RunIdentity): DestinationLock {
    const lock = new DestinationLock(path, owner);
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
    if (holder.state === 'live' && isSameRun(holder.run, this.owner)) unlinkQuietly(fsPath(this.path));
  }
}

/** Creates the lock holding `content`, or finds it `planId`'s ('ours'); refuses a live holder; 'failed' when none can be made. */
function acquire(path: RawPath, content: string, { shownDestination, onTakeOver }: TakeOptions, planId: string | undefined): 'created' | 'ours' | 'failed' {
  let tookOver = false;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const created = create(path, content);
    if (created !== 'exists') return created;
    const holder = inspect(path);
    switch (holder.state) {
      case 'gone':
        // Released between our attempt and our look: try again.
        continue;
      case 'planned':
        if (holder.plan.id === planId) return 'ours';
        throw planBusy(shownDestination, holder.plan, path);
      case 'live':
        throw busy(shownDestination, holder.run);
      case 'starting':
        throw busy(shownDestination, undefined);
      case 'stale': {
        // Taken over once: if another run won the lock meanwhile, it is refused below, naming the winner.
        if (tookOver) throw busy(shownDestination, undefined);
        tookOver = true;
        const result = removeStale(path);
        if (result === 'failed') return 'failed';
        if (result !== 'removed') throw result.plan ? planBusy(shownDestination, result.plan, path) : busy(shownDestination, result.run);
        onTakeOver(`took over a lock no live run holds (${holder.why})`, path);
      }
    }
  }
  const last = inspect(path);
  if (last.state === 'planned') throw planBusy(shownDestination, last.plan, path);
  throw busy(shownDestination, last.state === 'live' ? last.run : undefined);
}

/** Creates the lock holding `content` (who we are); 'exists' when something is at its name, 'failed' when none can be made. */
function create(path: RawPath, content: string): 'created' | 'exists' | 'failed' {
  let fd: number;
  try {
    fd = fs.openSync(fsPath(path), 'wx', 0o644);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EEXIST' ? 'exists' : 'failed';
  }
  try {
    fs.writeSync(fd, content);
  } catch {
    // A full destination: an empty lock would read as abandoned later; leave none.
    fs.closeSync(fd);
    unlinkQuietly(fsPath(path));
    return 'failed';
  }
  fs.closeSync(fd);
  return 'created';
}

/** Who holds the lock; a lock without its contents yet is given a moment to get them. */
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
    fd = fs.openSync(fsPath(path), READ_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { state: 'gone' };
    return { state: 'stale', why: code === 'ELOOP' ? 'a symlink' : `unreadable: ${code}` };
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) return { state: 'stale', why: 'not a regular file' };
    const buffer = Buffer.alloc(PLAN_LOCK_MAX_BYTES);
    const text = buffer.toString('latin1', 0, fs.readSync(fd, buffer, 0, buffer.length, 0));
    const plan = text.startsWith('plan ') ? parsePlanLock(Buffer.from(text, 'latin1').toString('utf8')) : undefined;
    if (plan) return plan.uid === stats.uid ? { state: 'planned', plan } : { state: 'stale', why: `it names user ${userName(plan.uid)} but belongs to ${userName(stats.uid)}` };
    const fields = /^(\d{1,10}) (\d{1,20}) (\d{1,10})\n$/.exec(text);
    if (fields === null) return withoutOwner(text, stats);
    const run: RunIdentity = { pid: Number(fields[1]), start: fields[2]!, uid: Number(fields[3]) };
    if (stats.uid !== run.uid) return { state: 'stale', why: `it names user ${userName(run.uid)} but belongs to ${userName(stats.uid)}` };
    const now = runIdentity(run.pid);
    return isSameRun(now, run) ? { state: 'live', run } : { state: 'stale', why: `pid ${run.pid} is not the run that wrote it` };
  } catch {
    return { state: 'starting' };
  } finally {
    fs.closeSync(fd);
  }
}

/** A lock without a holder in it: one of ours being written, unless it is old; anything else is not a run's. */
function withoutOwner(text: string, stats: fs.Stats): Holder {
  const ours = stats.uid === process.geteuid?.();
  if (text === '' && ours && Date.now() - stats.mtimeMs <= UNREADABLE_LOCK_STALE_MS) return { state: 'starting' };
  return { state: 'stale', why: text === '' ? 'empty' : 'it names no run' };
}

/**
 * Removes a lock found stale. Another run may have taken it over first and put a
 * fresh lock of its own there, which an unlink would destroy: so the lock is
 * first moved aside under a name of ours and checked there; a live one is put back.
 */
function removeStale(path: RawPath): 'removed' | 'failed' | { run: RunIdentity | undefined; plan?: PlanLock } {
  const aside = lockAsidePathFor(path, process.pid);
  try {
    fs.renameSync(fsPath(path), fsPath(aside));
  } catch (error) {
    // Gone already (another run removed it): the exclusive create decides who wins.
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'removed' : 'failed';
  }
  const holder = readHolder(aside);
  if (holder.state === 'stale' || holder.state === 'gone') {
    unlinkQuietly(fsPath(aside));
    return 'removed';
  }
  putBack(aside, path);
  return { run: holder.state === 'live' ? holder.run : undefined, ...(holder.state === 'planned' && { plan: holder.plan }) };
}

/** Back under its name, without replacing a lock made meanwhile (link fails if one is there). */
function putBack(aside: RawPath, path: RawPath): void {
  try {
    fs.linkSync(fsPath(aside), fsPath(path));
    unlinkQuietly(fsPath(aside));
  } catch (error) {
    // No hard links on this file system: a rename, which could replace a lock made in the last microseconds.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') unlinkQuietly(fsPath(aside));
    else {
      try {
        fs.renameSync(fsPath(aside), fsPath(path));
      } catch {
        unlinkQuietly(fsPath(aside));
      }
    }
  }
}

function busy(destination: string, run: RunIdentity | undefined): FoldercopyError {
  const who = run === undefined ? 'another foldercopy run' : `another foldercopy run (pid ${run.pid}, user ${userName(run.uid)})`;
  return new FoldercopyError('DESTINATION_BUSY', `${who} is copying into ${destination}; wait for it to finish or stop it`, destination);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
