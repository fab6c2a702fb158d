/**
 * A plan directory, on storage every host of a planned copy sees: what one walk
 * of the source found, split into parts that run as separate tasks (one per
 * scheduler index), and what each part did. Plain text so that people and other
 * tools can read it: plan.json, then NDJSON files whose paths are relative,
 * "/"-separated and byte-exact (surrogateescape text, as everywhere foldercopy
 * hands paths out). Every file is written under a temporary name and renamed,
 * so a reader never sees half of one, and a part run twice leaves one record.
 *
 *   PLAN/plan.json              the plan: roots, options, totals, the files' digests
 *   PLAN/directories.ndjson     every directory, parents first ("" is the root)
 *   PLAN/parts/000000.ndjson    the non-directory entries of part 0, …
 *   PLAN/records/000000.ndjson  what part 0 did, one line an entry, then a "done" line
 *   PLAN/finalized.json         written by the finalize step
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bytesFromRaw, pathText, type RawPath } from '../shared/raw-path.js';

export const PLAN_FORMAT = 'foldercopy-plan';
export const PLAN_VERSION = 1;

export interface PlanTotals {
  files: number;
  bytes: number;
  directories: number;
  symlinks: number;
  other: number;
}

/** plan.json. `options` holds every resolved copy option that decides what is copied and how. */
export interface PlanHeader {
  format: typeof PLAN_FORMAT;
  version: typeof PLAN_VERSION;
  /** 32 hex digits, random: names the plan in records and in the destination's lock. */
  id: string;
  created: string;
  source: string;
  destination: string;
  parts: number;
  options: Record<string, unknown>;
  totals: PlanTotals;
  /**
   * What planning could not list or stat (a name --files-from lists that the source lacks, an unreadable
   * directory): not in the plan, so not copied; the check calls such a copy incomplete. Absent: none.
   */
  failures?: PlanningFailure[];
  /** SHA-256 (hex) of the part files, in order, then directories.ndjson. */
  listing: string;
  /** SHA-256 (hex) of each part file and of directories.ndjson: a step names the file that was edited or cut. */
  digests?: { parts: string[]; directories: string };
}

/** A failure of planning, as its line said it: the path in the source (lossless text) and the error's code. */
interface PlanningFailure {
  path: string;
  code: string;
}

export interface PlannedDirectory {
  path: RawPath;
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  ino: number;
}

export type PlannedType = 'file' | 'symlink' | 'other';

export interface PlannedEntry {
  path: RawPath;
  type: PlannedType;
  size: number;
  mtimeNs: bigint;
  mode: number;
  ino: number;
  nlink: number;
}

export type PartOutcome = 'copied' | 'kept' | 'failed';

export interface RecordedEntry {
  path: RawPath;
  outcome: PartOutcome;
  size: number;
  /** The error code of a failed entry. */
  code?: string;
}

/** A record's last line: the part finished (some entries may have failed). */
export interface RecordDone {
  done: true;
  part: number;
  plan: string;
  host: string;
  pid: number;
  finished: string;
  counts: Record<PartOutcome, number>;
  bytes: number;
  /** The part kept the source's owners (it ran as root, as a copy keeps them); absent in a record that does not say: not kept. */
  owners?: boolean;
}

export const planFiles = {
  header: (plan: string) => path.join(plan, 'plan.json'),
  directories: (plan: string) => path.join(plan, 'directories.ndjson'),
  partsDirectory: (plan: string) => path.join(plan, 'parts'),
  part: (plan: string, k: number) => path.join(plan, 'parts', `${partName(k)}.ndjson`),
  recordsDirectory: (plan: string) => path.join(plan, 'records'),
  record: (plan: string, k: number) => path.join(plan, 'records', `${partName(k)}.ndjson`),
  finalized: (plan: string) => path.join(plan, 'finalized.json'),
};

function partName(k: number): string {
  return String(k).padStart(6, '0');
}

export function newPlanId(): string {
  return crypto.randomBytes(16).toString('hex');
}

// Lines: raw paths go out as text (pathText) and bigints as decimal strings.

export function directoryLine(d: PlannedDirectory): string {
  return `${JSON.stringify({ path: pathText(d.path), mode: d.mode, uid: d.uid, gid: d.gid, mtimeNs: String(d.mtimeNs), ino: d.ino })}\n`;
}

export function entryLine(e: PlannedEntry): string {
  return `${JSON.stringify({ path: pathText(e.path), type: e.type, size: e.size, mtimeNs: String(e.mtimeNs), mode: e.mode, ino: e.ino, nlink: e.nlink })}\n`;
}

export function recordLine(r: RecordedEntry): string {
  const line: Record<string, unknown> = { path: pathText(r.path), outcome: r.outcome, size: r.size };
  if (r.code !== undefined) line.code = r.code;
  return `${JSON.stringify(line)}\n`;
}

export function doneLine(done: Omit<RecordDone, 'done' | 'host' | 'pid' | 'finished'>): string {
  const line: RecordDone = { done: true, ...done, host: os.hostname(), pid: process.pid, finished: new Date().toISOString() };
  return `${JSON.stringify(line)}\n`;
}

/** Writes `file` whole under a temporary name, then renames it: readers see all of it or none. */
export function writeAtomically(file: string, text: string): void {
  const temp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(temp, text, { flag: 'wx' });
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

/** The bytes a raw path names on disk below a root (for callers building fs paths). */
export function onDisk(root: string, relative: RawPath): Buffer {
  return relative === '' ? Buffer.from(root) : Buffer.concat([Buffer.from(root), Buffer.from('/'), bytesFromRaw(relative)]);
}
