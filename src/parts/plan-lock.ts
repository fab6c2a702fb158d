/**
 * The finalize step's side of a planned copy's destination lock: the lock file
 * beside the destination (`.<name>.foldercopy-lock`, names-on-disk.ts) that
 * make-plan takes and every part keeps, naming the plan's id. Only finalize
 * removes it, and only when it names this plan: an ordinary run's lock, or
 * another plan's, is never touched. A minimal reader: the lock must be a regular
 * file (never followed, never a FIFO waited on) whose text holds the id as a word.
 */
import fs from 'node:fs';
import { lockPathFor } from '../shared/names-on-disk.js';
import { fsPath, type RawPath } from '../shared/raw-path.js';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
// A plan lock holds the plan's id and directory: a few hundred bytes.
const MAX_LOCK_BYTES = 8192;

/** Whether the lock beside `destination` names the plan `id`: false when there is none, or it is anything else. */
function namesPlan(lock: RawPath, id: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(fsPath(lock), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    if (!fs.fstatSync(fd).isFile()) return false;
    const buffer = Buffer.alloc(MAX_LOCK_BYTES);
    const text = buffer.toString('latin1', 0, fs.readSync(fd, buffer, 0, buffer.length, 0));
    return /^[0-9a-f]{32}$/.test(id) && new RegExp(`(?<![0-9a-f])${id}(?![0-9a-f])`).test(text);
  } finally {
    fs.closeSync(fd);
  }
}

/** Removes the plan's lock beside `destination`; true when there was one naming plan `id`. */
export function releasePlanLock(destination: RawPath, id: string): boolean {
  const lock = lockPathFor(destination);
  if (!namesPlan(lock, id)) return false;
  try {
    fs.unlinkSync(fsPath(lock));
    return true;
  } catch {
    return false;
  }
}
