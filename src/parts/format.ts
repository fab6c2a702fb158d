/**
 * A plan directory, on storage every host of a planned copy sees: what one walk
 * of the source found, split into parts that run as separate tasks (one per
 * scheduler index), and what each part did. Plain text so that people and other
 * tools can read it: plan.json, then NDJSON files whose paths are relative,
 * "/"-separated and byte-exact (surrogateescape text, as everywhere foldercopy
 * hands paths out). Every file is written under a temporary name and renamed,
 * so a reader never sees half of one, and a part run twice leaves one record.
 *
 *   PLAN/plan.json              the plan: roots, options, totals, listing digest
 *   PLAN/directories.ndjson     every directory, parents first ("" is the root)
 *   PLAN/parts/000000.ndjson    the non-directory entries of part 0, …
 *   PLAN/records/000000.ndjson  what part 0 did, one line an entry, then a "done" line
 *   PLAN/finalized.json         written by the finalize step
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bytesFromRaw, pathText, rawFromText, type RawPath } from '../shared/raw-path.js';

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
  /** SHA-256 (hex) of the part files, in order, then directories.ndjson. */
  listing: string;
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

/** Thrown for a plan file that is missing, garbled or of another format: the caller names it in one line. */
export class PlanFileError extends Error {
  override readonly name = 'PlanFileError';

  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

export function readHeader(plan: string): PlanHeader {
  const file = planFiles.header(plan);
  const header = parseJson(file, readText(file)) as Partial<PlanHeader> | null;
  if (header?.format !== PLAN_FORMAT || header.version !== PLAN_VERSION) {
    throw new PlanFileError(file, `not a foldercopy plan of version ${PLAN_VERSION}`);
  }
  if (typeof header.id !== 'string' || !Number.isInteger(header.parts) || typeof header.source !== 'string' || typeof header.destination !== 'string') {
    throw new PlanFileError(file, 'incomplete plan header');
  }
  return header as PlanHeader;
}

export function readDirectories(plan: string): PlannedDirectory[] {
  return readLines(planFiles.directories(plan), (v) => ({
    path: rawPath(v.path),
    mode: number(v.mode),
    uid: number(v.uid),
    gid: number(v.gid),
    mtimeNs: BigInt(String(v.mtimeNs)),
    ino: number(v.ino),
  }));
}

export function readPart(plan: string, k: number): PlannedEntry[] {
  return readLines(planFiles.part(plan, k), (v) => ({
    path: rawPath(v.path),
    type: plannedType(v.type),
    size: number(v.size),
    mtimeNs: BigInt(String(v.mtimeNs)),
    mode: number(v.mode),
    ino: number(v.ino),
    nlink: number(v.nlink),
  }));
}

/** A part's record, or null when the part has not finished (no record, or no "done" line). */
export function readRecord(plan: string, k: number): { entries: RecordedEntry[]; done: RecordDone } | null {
  const file = planFiles.record(plan, k);
  if (!fs.existsSync(file)) return null;
  const lines = ndjson(file);
  const last = lines.pop() as Partial<RecordDone> | undefined;
  if (last?.done !== true) return null;
  const entries = lines.map((v) => {
    const entry: RecordedEntry = { path: rawPath(v.path), outcome: outcome(v.outcome), size: number(v.size) };
    if (typeof v.code === 'string') entry.code = v.code;
    return entry;
  });
  return { entries, done: last as RecordDone };
}

/** A part's "done" line alone, or null when the part has not finished: what finalize needs, without reading every entry. */
export function readRecordDone(plan: string, k: number): RecordDone | null {
  const file = planFiles.record(plan, k);
  if (!fs.existsSync(file)) return null;
  const text = readText(file);
  if (text !== '' && !text.endsWith('\n')) throw new PlanFileError(file, 'truncated (no final newline)');
  const last = parseJson(file, text.slice(text.lastIndexOf('\n', text.length - 2) + 1, -1)) as Partial<RecordDone> | null;
  return last?.done === true ? (last as RecordDone) : null;
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

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new PlanFileError(file, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : String((error as Error).message));
  }
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new PlanFileError(file, 'not valid JSON');
  }
}

type Line = Record<string, unknown>;

function ndjson(file: string): Line[] {
  const text = readText(file);
  if (text !== '' && !text.endsWith('\n')) throw new PlanFileError(file, 'truncated (no final newline)');
  return text === '' ? [] : text.slice(0, -1).split('\n').map((line) => parseJson(file, line) as Line);
}

function readLines<T>(file: string, of: (value: Line) => T): T[] {
  try {
    return ndjson(file).map(of);
  } catch (error) {
    if (error instanceof PlanFileError) throw error;
    throw new PlanFileError(file, `a line is not of this format (${(error as Error).message})`);
  }
}

function rawPath(value: unknown): RawPath {
  if (typeof value !== 'string') throw new TypeError('path is not a string');
  return rawFromText(value);
}

function number(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`${String(value)} is not a number`);
  return value;
}

function plannedType(value: unknown): PlannedType {
  if (value !== 'file' && value !== 'symlink' && value !== 'other') throw new TypeError(`unknown type ${String(value)}`);
  return value;
}

function outcome(value: unknown): PartOutcome {
  if (value !== 'copied' && value !== 'kept' && value !== 'failed') throw new TypeError(`unknown outcome ${String(value)}`);
  return value;
}

/** The bytes a raw path names on disk below a root (for callers building fs paths). */
export function onDisk(root: string, relative: RawPath): Buffer {
  return relative === '' ? Buffer.from(root) : Buffer.concat([Buffer.from(root), Buffer.from('/'), bytesFromRaw(relative)]);
}
