/**
 * Reading a plan directory (format.ts says what each file holds). A file that is
 * missing, garbled or of another format is a PlanFileError naming it, which each
 * step turns into one line. The part files and directories.ndjson can be read
 * into a digest as they are read: plan.json's `listing` is the SHA-256 of them
 * all, so a step that reads them all proves none was edited or cut since planning.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { rawFromText, type RawPath } from '../shared/raw-path.js';
import { planFiles, PLAN_FORMAT, PLAN_VERSION, type PartOutcome, type PlanHeader, type PlannedDirectory, type PlannedEntry, type PlannedType, type RecordDone, type RecordedEntry } from './format.js';

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
  if (header.failures !== undefined && !(Array.isArray(header.failures) && header.failures.every((f) => typeof f?.path === 'string' && typeof f.code === 'string'))) {
    throw new PlanFileError(file, 'its failures are not of this format');
  }
  if (typeof header.listing !== 'string' || (header.digests !== undefined && !digestsOf(header.digests, header.parts!))) throw new PlanFileError(file, 'its digests are not of this format');
  return header as PlanHeader;
}

/** directories.ndjson; its text checked by `verify` when one is given (verifyAgainst). */
export function readDirectories(plan: string, verify?: Verify): PlannedDirectory[] {
  return readLines(planFiles.directories(plan), verify, (v) => ({
    path: rawPath(v.path),
    mode: number(v.mode),
    uid: number(v.uid),
    gid: number(v.gid),
    mtimeNs: BigInt(String(v.mtimeNs)),
    ino: number(v.ino),
  }));
}

/** Part k's entries; the file's text checked by `verify` when one is given (verifyAgainst). */
export function readPart(plan: string, k: number, verify?: Verify): PlannedEntry[] {
  return readLines(planFiles.part(plan, k), verify, (v) => ({
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



function digestsOf(digests: unknown, parts: number): boolean {
  const { parts: each, directories } = (digests ?? {}) as { parts?: unknown; directories?: unknown };
  return typeof directories === 'string' && Array.isArray(each) && each.length === parts && each.every((digest) => typeof digest === 'string');
}

/** Checks a plan file's text as it is read: throws a PlanFileError naming the file when it is not what planning wrote. */
export type Verify = (file: string, text: string) => void;

/** The SHA-256 (hex) of a plan file's text, as plan.json's digests hold it. */
export function digestOf(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

/**
 * Checks each part file and directories.ndjson against its digest in plan.json (`digests`), naming the file
 * that differs: edited or cut since planning. `expected` picks the file's digest.
 */
export function verifyAgainst(expected: string | undefined): Verify {
  return (file, text) => {
    if (expected !== undefined && digestOf(text) !== expected) throw new PlanFileError(file, DAMAGED);
  };
}

const DAMAGED = 'the plan is damaged: this file is not what planning wrote (edited or cut since: its SHA-256 is not the one plan.json holds); make the plan again';

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

function ndjson(file: string, verify?: Verify): Line[] {
  const text = readText(file);
  verify?.(file, text);
  if (text !== '' && !text.endsWith('\n')) throw new PlanFileError(file, 'truncated (no final newline)');
  return text === '' ? [] : text.slice(0, -1).split('\n').map((line) => parseJson(file, line) as Line);
}

function readLines<T>(file: string, verify: Verify | undefined, of: (value: Line) => T): T[] {
  try {
    return ndjson(file, verify).map(of);
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

