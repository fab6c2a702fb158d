/**
 * The destination's lock in its plan-shared form (lock.ts takes it): a planned
 * copy's parts run as separate processes, on other hosts too, from planning to
 * finalize, so the lock names the plan, not a process. Every run of that plan
 * may write; an ordinary run or another plan is refused until the plan's
 * finalize removes it. It is not checked against a pid (its runs are elsewhere):
 * it is trusted only when the file belongs to the user it names.
 *
 *   plan <32 hex digits: the plan's id> <uid> <the plan directory, as a JSON string>\n
 */
import fs from 'node:fs';
import { FoldercopyError } from '../shared/errors.js';
import { lockPathFor } from '../shared/names-on-disk.js';
import { fsPath, pathText, type RawPath } from '../shared/raw-path.js';
import { unlinkQuietly } from '../shared/unlink-quietly.js';

export interface PlanLock {
  /** The plan's id (plan.json). */
  id: string;
  /** The plan directory, for the message that tells how to end it. */
  directory: string;
}

/** The longest plan lock read back: its directory is a path, at most PATH_MAX bytes, escaped. */
export const PLAN_LOCK_MAX_BYTES = 16_384;

const PLAN_LOCK_LINE = /^plan ([0-9a-f]{32}) (\d{1,10}) (".*")\n$/s;

export function planLockText(plan: PlanLock, uid: number): string {
  return `plan ${plan.id} ${uid} ${JSON.stringify(plan.directory)}\n`;
}

/** The plan a lock's text names, with the user it names; undefined for any other text. */
export function parsePlanLock(text: string): (PlanLock & { uid: number }) | undefined {
  const fields = PLAN_LOCK_LINE.exec(text);
  if (fields === null) return undefined;
  try {
    const directory = JSON.parse(fields[3]!) as unknown;
    return typeof directory === 'string' ? { id: fields[1]!, uid: Number(fields[2]), directory } : undefined;
  } catch {
    return undefined;
  }
}

/** The refusal of a run that finds another plan's lock on its destination. */
export function planBusy(shownDestination: string, plan: PlanLock, lockPath: RawPath): FoldercopyError {
  return new FoldercopyError(
    'DESTINATION_BUSY',
    `${shownDestination}: a planned copy (plan ${plan.id} in ${plan.directory}) is in progress; run its --finalize, or remove ${pathText(lockPath)}`,
    shownDestination,
  );
}

/** The plan's finalize: removes the destination's lock if it names this plan (never another's); true if it did. */
export function releasePlanLock(destination: RawPath, id: string): boolean {
  const path = lockPathFor(destination);
  let text: string;
  try {
    const fd = fs.openSync(fsPath(path), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    try {
      const buffer = Buffer.alloc(PLAN_LOCK_MAX_BYTES);
      text = buffer.toString('latin1', 0, fs.readSync(fd, buffer, 0, buffer.length, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
  if (parsePlanLock(Buffer.from(text, 'latin1').toString('utf8'))?.id !== id) return false;
  unlinkQuietly(fsPath(path));
  return true;
}
