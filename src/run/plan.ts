/**
 * The planner: turns each listing into destination directories (made now or
 * deferred) and batches of jobs, and schedules what workers hand back: which
 * name of a multi-name file is copied and which become links to its copy, and
 * large files, which travel alone. Bookkeeping only: the directories it asks
 * for are made by destination/directories.ts, the jobs run in the workers,
 * and what happened goes to the run's events (events.ts).
 */
import type { ErrorRecord } from '../shared/errors.js';
import type { RecordedHash } from '../shared/hash-state.js';
import type { FileJob, Job } from '../shared/jobs.js';
import type { JobResult } from '../shared/protocol.js';
import { joinRaw, type RawPath } from '../shared/raw-path.js';
import type { DestinationDirectories } from '../destination/directories.js';
import type { DeletePass } from '../delete/pass.js';
import type { Listing } from '../source/walk.js';
import { Batcher } from './batcher.js';
import type { RunEvents } from './events.js';

// Jobs are submitted in runs of at most a batch; the pool cuts them shorter to the measured pace
// (pool/pace.ts), and a worker hands back the rest of a batch once it has written 4 MiB (worker/worker.ts).

export interface PlannerOptions {
  directories: DestinationDirectories;
  /** Told of each directory made or deferred, and only in a run that deletes: where it compares. */
  deletePass: DeletePass | null;
  events: RunEvents;
  /** Where entries are written. */
  writtenTo: RawPath;
  /** With --include, a directory is made only once something is copied into it. */
  makeDirectoriesLazily: boolean;
  /** Other runs write the same entries at the same time (a planned copy's part run twice at once): every job looks before it writes. */
  entriesMayExist: boolean;
  submit: (jobs: Job[]) => void;
  /** Aborted when the run stops: what finishes after that releases nothing more. */
  halt: AbortSignal;
  /** The manifest's previous hash records, by path (run/hash-state-file.ts); null without them. */
  recorded: Map<RawPath, RecordedHash> | null;
}

export class Planner {
  private readonly batcher: Batcher;
  /** Jobs that finished jobs release or hand back, batched anew after each confirmation. */
  private readonly followUps: Batcher;
  private readonly hardLinks = new HardLinks();

  constructor(private readonly options: PlannerOptions) {
    this.batcher = new Batcher(options.submit);
    this.followUps = new Batcher(options.submit);
  }

  /** Makes (or defers) the listed directory and batches a job for each file and symlink in it. */
  plan({ directory, entries, mountPoint }: Listing): void {
    const { directories, events } = this.options;
    const above = directories.brokenAbove(directory.path);
    if (above) {
      this.failUnwritable(directory.path, above);
      for (const entry of entries) this.failUnwritable(entry.path, above);
      return;
    }
    // Only what is made or deferred is compared: beneath a directory that could not be made there is nothing to, and its failure keeps --delete from running.
    this.options.deletePass?.listed(directory.path, entries.length, mountPoint !== true);
    if (this.options.makeDirectoriesLazily && directory.path !== '') directories.defer(directory);
    else directories.make(directory);
    if (entries.length === 0) return;
    // All entries share the directory: what holds for the first holds for them all.
    const first = entries[0]!.path;
    directories.ensureParentsOf(first);
    const broken = directories.brokenAbove(first);
    if (broken) {
      for (const entry of entries) this.failUnwritable(entry.path, broken);
      return;
    }
    const mayExist = this.options.entriesMayExist || directories.mayHoldEntryFor(first);
    const { recorded } = this.options;
    let jobs = 0;
    // Once per file: indexed, and each job made whole at once (a property added to an object literal
    // after it is made costs the object a second allocation).
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (entry.kind === 'special') {
        events.specialFile(entry);
        continue;
      }
      const job: Job = mayExist ? { kind: entry.kind, path: entry.path, mayExist: true } : { kind: entry.kind, path: entry.path };
      if (recorded !== null && mayExist && job.kind === 'file') {
        const hash = recorded.get(entry.path);
        if (hash) job.recorded = hash;
      }
      this.batcher.add(job);
      jobs++;
    }
    events.planned(jobs);
    this.batcher.held(performance.now());
  }

  /** The source is one file: one job, named '' (the roots are the files themselves). */
  planSingleFile(mayExist: boolean): void {
    const job: FileJob = { kind: 'file', path: '' };
    if (mayExist) job.mayExist = true;
    const recorded = this.options.recorded?.get('');
    if (mayExist && recorded) job.recorded = recorded;
    this.options.events.planned();
    this.batcher.add(job);
  }

  /** Everything is listed: send the last partial batch. */
  listingDone(): void {
    this.batcher.flush();
  }

  /**
   * A job the pool is done with: handed back (scheduled anew), or finished (reported, and its directory's
   * times marked as moved unless it was skipped). Once per file: no allocation on the common path.
   */
  jobDone(job: Job, result: JobResult): void {
    const { outcome, error } = result;
    const halted = this.options.halt.aborted;
    if (outcome === 'otherNames' || outcome === 'large' || outcome === 'largeForked' || outcome === 'batchFull') {
      if (!halted) this.handedBack(job, result);
      return;
    }
    const { events, directories, deletePass } = this.options;
    if (outcome !== 'skipped') directories.entryChanged(job.path);
    // A directory where the source now has a file: the delete pass removes it, then this job runs again.
    if (error && deletePass?.holds(job, error)) events.jobHeld(job, result);
    else events.jobDone(job, result);
    // A first name's copy releases the other names (or, failed, passes the turn to the next).
    if (halted) return;
    // Indexed: a for-of would make an iterator for every finished job, and nearly all release nothing.
    const released = this.hardLinks.settle(job, error === undefined);
    for (let i = 0; i < released.length; i++) this.followUps.add(released[i]!);
  }

  /** After each confirmation: what it released travels as one batch. */
  sendFollowUps(): void {
    this.followUps.flush();
  }

  /** A job its worker handed back: one name of a file with several, a large file to send alone, or the rest of a long batch. */
  private handedBack(job: Job, { outcome, size, inode }: JobResult): void {
    if (outcome === 'otherNames' && job.kind === 'file' && inode !== undefined) {
      const next = this.hardLinks.add(job, inode);
      if (next) this.followUps.add(next);
      return;
    }
    if ((outcome === 'large' || outcome === 'largeForked') && job.kind === 'file') {
      // Sized once: a large file the parent could not clone comes back as the same job, now for a forked worker.
      const large: FileJob = job.large ? job : { ...job, large: true };
      if (outcome === 'largeForked') large.forked = true;
      if (!job.large) this.options.events.sized(large, size);
      this.followUps.add(large);
      return;
    }
    this.followUps.add(job);
  }

  /** An entry beneath a directory that could not be made fails with that directory's reason; none once the run stopped. */
  private failUnwritable(relativePath: RawPath, directory: ErrorRecord): void {
    const { events, writtenTo } = this.options;
    if (events.stopped) return;
    events.fail({ code: directory.code, message: 'its directory could not be created', operation: 'write', path: joinRaw(writtenTo, relativePath) });
  }
}

const NOTHING_RELEASED: readonly Job[] = Object.freeze([]);

/**
 * Files that share an inode in the source share one in the copy. Workers hand
 * back every file with other names; the first name is copied, the others wait
 * for it and become links to the copy. If the first copy fails, the next name
 * is copied in its place.
 */
export class HardLinks {
  private readonly groups = new Map<string, { copied: RawPath | null; waiting: FileJob[] }>();
  /** First names being copied now, by path, with their inode. */
  private readonly copying = new Map<RawPath, string>();

  /** The job to run now for this file, or null when it must wait for the first name's copy. */
  add(job: FileJob, inode: string): Job | null {
    const group = this.groups.get(inode);
    if (!group) {
      this.groups.set(inode, { copied: null, waiting: [] });
      this.copying.set(job.path, inode);
      return { ...job, firstName: true };
    }
    if (group.copied !== null) return linkTo(job, group.copied);
    group.waiting.push(job);
    return null;
  }

  /** A job finished: if it was a first name, returns the jobs its copy releases. */
  settle(job: Job, succeeded: boolean): readonly Job[] {
    // Called for every finished job: the common answer allocates nothing.
    if (this.copying.size === 0 || job.kind !== 'file') return NOTHING_RELEASED;
    const inode = this.copying.get(job.path);
    if (inode === undefined) return NOTHING_RELEASED;
    this.copying.delete(job.path);
    const group = this.groups.get(inode)!;
    if (succeeded) {
      group.copied = job.path;
      return group.waiting.splice(0).map((waiting) => linkTo(waiting, job.path));
    }
    const next = group.waiting.shift();
    if (!next) {
      this.groups.delete(inode);
      return NOTHING_RELEASED;
    }
    this.copying.set(next.path, inode);
    return [{ ...next, firstName: true }];
  }
}

function linkTo(job: FileJob, target: RawPath): Job {
  return { kind: 'hardlink', path: job.path, target, ...(job.mayExist && { mayExist: true }) };
}
