/**
 * Plan directories for the tests of the steps after the parts (finalize, check), made without make-plan:
 * a walk of a real source tree written with src/parts/format.ts's writers, the copy made with `cp -a`,
 * and the parts' records written as a part writes them.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  directoryLine,
  doneLine,
  entryLine,
  newPlanId,
  onDisk,
  PLAN_FORMAT,
  PLAN_VERSION,
  planFiles,
  recordLine,
  writeAtomically,
  type PlanTotals,
  type PlannedDirectory,
  type PlannedEntry,
  type PlannedType,
  type RecordedEntry,
} from '../../src/parts/format.js';
import { digestOf, readPart } from '../../src/parts/read-plan.js';
import { lockPathFor } from '../../src/shared/names-on-disk.js';
import { childPath, rawFromBytes, rawFromString, type RawPath } from '../../src/shared/raw-path.js';

export interface PlanFixture {
  plan: string;
  id: string;
  source: string;
  destination: string;
  parts: number;
}

export interface FixtureOptions {
  parts?: number;
  /** plan.json's options (the library's option names). */
  options?: Record<string, unknown>;
  /** Left out of the plan, as the plan's filters would leave it (a relative path, "/"-separated). */
  leaveOut?: (relative: string) => boolean;
}

/** Walks `source` and writes a plan of it in `plan`: directories parents first, entries dealt round robin by path. */
export function writePlan(source: string, destination: string, plan: string, { parts = 2, options = {}, leaveOut = () => false }: FixtureOptions = {}): PlanFixture {
  const directories: PlannedDirectory[] = [];
  const entries: PlannedEntry[] = [];
  const visit = (relative: RawPath): void => {
    const stats = fs.lstatSync(onDisk(source, relative), { bigint: true });
    const common = { path: relative, mode: Number(stats.mode), mtimeNs: stats.mtimeNs, ino: Number(stats.ino) };
    if (stats.isDirectory()) {
      directories.push({ ...common, uid: Number(stats.uid), gid: Number(stats.gid) });
      const names = fs.readdirSync(onDisk(source, relative), { encoding: 'buffer' }).map(rawFromBytes).sort();
      for (const name of names) {
        const child = childPath(relative, name);
        if (!leaveOut(child)) visit(child);
      }
      return;
    }
    const type: PlannedType = stats.isFile() ? 'file' : stats.isSymbolicLink() ? 'symlink' : 'other';
    entries.push({ ...common, type, size: Number(stats.size), nlink: Number(stats.nlink) });
  };
  visit('');
  fs.mkdirSync(planFiles.partsDirectory(plan), { recursive: true });
  fs.mkdirSync(planFiles.recordsDirectory(plan), { recursive: true });
  const partTexts = Array.from({ length: parts }, (_, k) =>
    entries
      .filter((_entry, i) => i % parts === k)
      .map(entryLine)
      .join(''),
  );
  partTexts.forEach((text, k) => writeAtomically(planFiles.part(plan, k), text));
  const directoriesText = directories.map(directoryLine).join('');
  writeAtomically(planFiles.directories(plan), directoriesText);
  const id = newPlanId();
  const totals: PlanTotals = {
    files: entries.filter((e) => e.type === 'file').length,
    bytes: entries.reduce((sum, e) => sum + (e.type === 'file' ? e.size : 0), 0),
    directories: directories.length,
    symlinks: entries.filter((e) => e.type === 'symlink').length,
    other: entries.filter((e) => e.type === 'other').length,
  };
  const header = {
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    id,
    created: new Date().toISOString(),
    source: path.resolve(source),
    destination: path.resolve(destination),
    parts,
    options,
    totals,
    listing: createHash('sha256').update([...partTexts, directoriesText].join('')).digest('hex'),
    digests: { parts: partTexts.map(digestOf), directories: digestOf(directoriesText) },
  };
  writeAtomically(planFiles.header(plan), `${JSON.stringify(header)}\n`);
  return { plan, id, source: path.resolve(source), destination: path.resolve(destination), parts };
}

/** The copy of the planned tree, as the parts together make it: `cp -a` of the whole source. */
export function copyWithCp(fixture: PlanFixture): void {
  fs.mkdirSync(fixture.destination, { recursive: true });
  execFileSync('cp', ['-a', '--', `${fixture.source}/.`, fixture.destination]);
}

export interface RecordOptions {
  /** Paths (relative, text) left out of the record. */
  omit?: readonly string[];
  /** Lines added to the record, as a part wrote them. */
  extra?: readonly RecordedEntry[];
  /** Recorded failed, with this code. */
  failed?: Readonly<Record<string, string>>;
}

/** Part k's record, every planned entry "copied" unless told otherwise. */
export function writeRecord(fixture: PlanFixture, k: number, { omit = [], extra = [], failed = {} }: RecordOptions = {}): void {
  const lines: RecordedEntry[] = [];
  for (const entry of readPart(fixture.plan, k)) {
    const text = entry.path;
    if (omit.includes(text)) continue;
    const code = failed[text];
    lines.push(code === undefined ? { path: entry.path, outcome: 'copied', size: entry.size } : { path: entry.path, outcome: 'failed', size: 0, code });
  }
  lines.push(...extra);
  const counts = { copied: 0, kept: 0, failed: 0 };
  for (const line of lines) counts[line.outcome]++;
  const text = lines.map(recordLine).join('') + doneLine({ part: k, plan: fixture.id, counts, bytes: 0 });
  writeAtomically(planFiles.record(fixture.plan, k), text);
}

export function writeAllRecords(fixture: PlanFixture): void {
  for (let k = 0; k < fixture.parts; k++) writeRecord(fixture, k);
}

/** The lock beside the destination, in the plan-shared form: naming the plan id (and its directory). */
export function writePlanLock(destination: string, id: string, plan: string): string {
  const lock = lockPathFor(rawFromString(path.resolve(destination)));
  fs.writeFileSync(lock, `plan ${id} ${process.getuid?.() ?? 0} ${JSON.stringify(plan)}\n`);
  return lock;
}

/** The record's entry lines as written (for tests that edit a record by hand). */
export function recordFile(fixture: PlanFixture, k: number): string {
  return planFiles.record(fixture.plan, k);
}
