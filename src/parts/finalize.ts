/**
 * `--plan PLAN --finalize` (finalizePlan): the one step after every part of a
 * planned copy ran. The parts wrote the entries; this gives the directories what
 * a copy gives them at its end (destination/finalize-directories.ts): each
 * planned directory still missing is made (an empty one no part made), then,
 * deepest first, owner (as root), extended attributes, mode and times from the
 * plan, after every write below them. With the plan's --delete, what the
 * destination holds and the plan does not list goes first (finalize-delete.ts),
 * kept aside first with the plan's --backup, as a copy's --delete keeps it.
 * Then the plan's lock beside the destination is removed and finalized.json
 * written. A part that has not finished is a refusal: its writes would move the
 * directories' times again. Running it again is harmless: it sets the same
 * attributes and finds nothing more to delete.
 */
import fs from 'node:fs';
import { finalizeDirectories, type MadeDirectory } from '../destination/finalize-directories.js';
import { checkMaxDelete } from '../delete/refusals.js';
import { DirectoryHandles } from '../shared/directory-handles.js';
import { errorRecord, FoldercopyError, type ErrorRecord } from '../shared/errors.js';
import type { OwnerPolicy } from '../shared/jobs.js';
import { metadataFromStats } from '../shared/metadata.js';
import { isTempName } from '../shared/names-on-disk.js';
import { childPath, fsPath, joinRaw, pathText, rawFromLatin1, type RawPath } from '../shared/raw-path.js';
import type { CopyFailure } from '../run/types.js';
import { planFiles, writeAtomically, type PlannedDirectory, type RecordDone } from './format.js';
import { PlanFileError, readRecordDone } from './read-plan.js';
import { deleteUnplanned } from './finalize-delete.js';
import { lookAhead, type LookAhead } from './look-ahead.js';
import { onNetworkFileSystem } from '../shared/file-systems.js';
import { releasePlanLock } from '../destination/plan-lock.js';
import { loadPlan, planSettings, type PlanListing } from './plan-listing.js';

export interface FinalizePlanOptions {
  /** Allows this many deletions, in place of the plan's maxDelete (which the guard's refusal may ask for). */
  maxDelete?: number;
}

export interface FinalizeSummary {
  /** The plan's id. */
  plan: string;
  destination: string;
  /** Planned directories, and those of them this step made. */
  directories: number;
  made: number;
  deleted: number;
  /** Of them, kept aside first: the plan was made with --backup (or --backup-dir), as a copy's --delete keeps them. */
  backedUp: number;
  /** Temporary files left by parts killed mid-write, removed. */
  swept: number;
  /** Why the plan's --delete deleted nothing, when it did not run. */
  deletionSkipped: string | undefined;
  failures: CopyFailure[];
  /** The destination's lock named this plan and was removed. */
  lockReleased: boolean;
  /** Everything was done: the lock is released and finalized.json written. Otherwise run it again once the cause is fixed. */
  finalized: boolean;
}

export async function finalizePlan(plan: string, options: FinalizePlanOptions = {}): Promise<FinalizeSummary> {
  const listing = loadPlan(plan);
  const settings = planSettings(listing);
  checkMaxDelete(options.maxDelete, settings.delete);
  if (options.maxDelete !== undefined) settings.maxDelete = options.maxDelete;
  const { failedEntries } = finishedParts(listing);
  const failures: ErrorRecord[] = [];
  const handles = new DirectoryHandles(listing.destination);
  const policy = ownerPolicy(settings.xattrs);
  const summary: FinalizeSummary = {
    plan: listing.header.id,
    destination: listing.header.destination,
    directories: listing.directories.length,
    made: 0,
    deleted: 0,
    backedUp: 0,
    swept: 0,
    deletionSkipped: undefined,
    failures: [],
    lockReleased: false,
    finalized: false,
  };
  try {
    const ahead = onNetworkFileSystem(fsPath(listing.destination)) ? lookAhead(handles) : null;
    const present = await makeMissing({ listing, handles, ahead, failures }, summary);
    summary.swept = await sweepTemporaries(present, { listing, handles, ahead, failures });
    if (settings.delete) {
      // As a copy's --delete deletes nothing after a failure: what planning could not list is not in the plan, and would go.
      const failed = failedEntries ? 'some entries failed to copy' : (listing.header.failures?.length ?? 0) > 0 ? 'some entries could not be listed when planned' : undefined;
      const deletion = failed !== undefined ? { deleted: 0, backedUp: 0, skipped: failed, failures: [] } : deleteUnplanned({ listing, settings, handles });
      failures.push(...deletion.failures);
      summary.deleted = deletion.deleted;
      summary.backedUp = deletion.backedUp;
      summary.deletionSkipped = deletion.skipped;
    }
    const made = present.map((found) => madeDirectory(found, listing.source, policy));
    const existing = new Set(made.map((directory) => directory.path));
    const set = await finalizeDirectories({ made, existing, changed: existing, allListed: true, source: listing.source, destination: listing.destination, handles, policy });
    failures.push(...set.failures);
  } finally {
    handles.closeAll();
  }
  summary.failures = failures.map(asFailure);
  if (failures.length > 0 || summary.deletionSkipped !== undefined) return summary;
  summary.lockReleased = releasePlanLock(listing.destination, listing.header.id);
  // owners: the directories were given the source's (as root), so the check compares them.
  writeAtomically(planFiles.finalized(plan), `${JSON.stringify({ plan: summary.plan, finished: new Date().toISOString(), deleted: summary.deleted, owners: policy.preserve })}\n`);
  summary.finalized = true;
  return summary;
}

/** Every part has its record (else a refusal naming the first few), and whether any entry failed. */
function finishedParts({ plan, header }: PlanListing): { failedEntries: boolean } {
  const unfinished: number[] = [];
  let failedEntries = false;
  for (let k = 0; k < header.parts; k++) {
    let done: RecordDone | null;
    try {
      done = readRecordDone(plan, k);
    } catch (error) {
      if (!(error instanceof PlanFileError)) throw error;
      done = null;
    }
    if (done === null || done.plan !== header.id) unfinished.push(k);
    else if (done.counts.failed > 0) failedEntries = true;
  }
  if (unfinished.length > 0) {
    const named = unfinished.slice(0, 5).join(', ') + (unfinished.length > 5 ? `, and ${unfinished.length - 5} more` : '');
    throw new FoldercopyError(
      'PLAN_INCOMPLETE',
      `${unfinished.length === 1 ? 'part' : 'parts'} ${named} of ${plan} ${unfinished.length === 1 ? 'has' : 'have'} not finished (no record): run ${unfinished.length === 1 ? 'it' : 'them'} before finalizing`,
      plan,
    );
  }
  return { failedEntries };
}

interface Present {
  directory: PlannedDirectory;
  /** Its access time now: left as it is (the plan has none to give). */
  atimeNs: bigint;
  /** Its owner and mode now: where they are the plan's already, no chown or chmod (each a round trip on a network mount). */
  uid: number;
  gid: number;
  mode: number;
}

/** What the finalize's steps on the destination's directories share. */
interface OnDirectories {
  listing: PlanListing;
  handles: DirectoryHandles;
  /** Looks made many at once on a network file system; null elsewhere. */
  ahead: LookAhead | null;
  failures: ErrorRecord[];
}

/** Makes each planned directory that is missing, parents first; returns those that are directories now. */
async function makeMissing({ listing, handles, ahead, failures }: OnDirectories, summary: FinalizeSummary): Promise<Present[]> {
  const present: Present[] = [];
  const broken = new Set<RawPath>();
  const found = ahead ? await ahead.stats(listing.directories.map(({ path }) => path)) : undefined;
  for (const directory of listing.directories) {
    const { path } = directory;
    const parent = path === '' ? null : path.slice(0, Math.max(path.lastIndexOf('/'), 0));
    if (parent !== null && broken.has(parent)) {
      broken.add(path);
      continue;
    }
    // The root by its path (it may be a symlink the user chose to copy into), the rest never followed.
    const target = path === '' ? fsPath(listing.destination) : handles.entryPath(path);
    const stat = path === '' ? fs.statSync : fs.lstatSync;
    try {
      let stats = found?.get(path) ?? stat(target, { bigint: true, throwIfNoEntry: false });
      if (stats === undefined) {
        fs.mkdirSync(target, 0o700);
        summary.made++;
        stats = stat(target, { bigint: true });
      }
      if (!stats.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      present.push({ directory, atimeNs: stats.atimeNs, uid: Number(stats.uid), gid: Number(stats.gid), mode: Number(stats.mode) & 0o7777 });
    } catch (error) {
      broken.add(path);
      failures.push(errorRecord(error, 'mkdir', joinRaw(listing.destination, path)));
    }
  }
  return present;
}

/**
 * Every part has finished, so a temporary file still in a planned directory is a
 * killed run's (its pid may be of another host, so it cannot be asked): removed,
 * never followed, and never a directory.
 */
async function sweepTemporaries(present: Present[], { listing, handles, ahead, failures }: OnDirectories): Promise<number> {
  const { destination } = listing;
  const listed = ahead ? await ahead.names(present.map(({ directory }) => directory.path)) : undefined;
  let swept = 0;
  for (const { directory } of present) {
    let names: string[];
    try {
      names = (listed?.get(directory.path) ?? fs.readdirSync(handles.entryPath(directory.path), 'latin1')).filter(isTempName);
    } catch (error) {
      failures.push(errorRecord(error, 'list', joinRaw(destination, directory.path)));
      continue;
    }
    for (const name of names) {
      const path = childPath(directory.path, rawFromLatin1(name));
      try {
        if (fs.lstatSync(handles.entryPath(path)).isDirectory()) continue;
        fs.unlinkSync(handles.entryPath(path));
        swept++;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') failures.push(errorRecord(error, 'delete', joinRaw(destination, path)));
      }
    }
  }
  return swept;
}

function madeDirectory({ directory, atimeNs, uid, gid, mode }: Present, source: RawPath, policy: OwnerPolicy): MadeDirectory {
  const { atime, mtime } = metadataFromStats({ mode: directory.mode, uid: directory.uid, gid: directory.gid, atimeNs, mtimeNs: directory.mtimeNs });
  const chown = policy.preserve && (uid !== directory.uid || gid !== directory.gid);
  return {
    path: directory.path,
    mode: directory.mode & 0o7777,
    // After a chown the mode is given again, as the copy's finalize does: a chown may clear set-ID bits.
    modeIsSet: !chown && mode === (directory.mode & 0o7777),
    atime,
    mtime,
    atimeNs,
    mtimeNs: directory.mtimeNs,
    owner: chown ? { uid: directory.uid, gid: directory.gid } : undefined,
    source: fsPath(joinRaw(source, directory.path)),
    existed: true,
  };
}

/** Only root can give directories away, so only root keeps owners, as a copy does. */
function ownerPolicy(xattrs: boolean): OwnerPolicy {
  const uid = process.geteuid?.() ?? -1;
  const gid = process.getegid?.() ?? -1;
  return { preserve: uid === 0, uid, gid, groupInherited: false, xattrs };
}

function asFailure(record: ErrorRecord): CopyFailure {
  return { path: pathText(record.path), code: record.code, operation: record.operation, message: record.message };
}
