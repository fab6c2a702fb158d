/**
 * `--plan PLAN --check` (checkPlan): proves a planned copy complete, or says
 * why not, in one pass that writes nothing. Three questions, and the status is
 * the gravest answer: did the source change since planning (a fresh listing of
 * it against the plan: source-changed, exit 5); do the records and the
 * destination agree with the plan (no entry recorded twice or by a part not
 * planned to copy it, each destination entry of the source's type, size, mtime
 * and mode, owner where the copy kept owners, one inode for a file's names,
 * and content with `checksum`: mismatched, exit 4); did everything run (every
 * part recorded, every planned entry copied or kept, the plan finalized:
 * incomplete, exit 3). Comparing the trees is check-trees.ts and
 * check-copies.ts. A plan file not as planning wrote it is refused (loadPlan).
 */
import fs from 'node:fs';
import type { RawPath } from '../shared/raw-path.js';
import { planFiles, type PartOutcome, type RecordedEntry } from './format.js';
import { PlanFileError, readRecord } from './read-plan.js';
import { problemAt, STATUS_OF, type CheckProblem, type CheckStatus } from './check-problems.js';
import { compareTrees, type Found } from './check-trees.js';
import { loadPlan, planSettings, type PlanListing } from './plan-listing.js';

export interface CheckReport {
  schemaVersion: 1;
  status: CheckStatus;
  parts: { planned: number; recorded: number; missing: number[] };
  /** Non-directory entries: planned, and what the records say of them; extra: recorded, not planned there. */
  entries: { planned: number; copied: number; kept: number; failed: number; missing: number; extra: number; mismatched: number };
  /** Gravest first (source, then mismatches, then what is missing), each kind in plan order. */
  problems: CheckProblem[];
}

const GRAVITY: readonly CheckStatus[] = ['source-changed', 'mismatched', 'incomplete'];

export interface CheckPlanOptions {
  /** Compare the content of every file (SHA-256 of both sides) and the target of every symlink. */
  checksum?: boolean;
}

interface Recorded {
  part: number;
  outcome: PartOutcome;
  code: string | undefined;
}

export async function checkPlan(plan: string, options: CheckPlanOptions = {}): Promise<CheckReport> {
  const listing = loadPlan(plan);
  const settings = planSettings(listing);
  const problems: CheckProblem[] = [];
  const report: CheckReport = {
    schemaVersion: 1,
    status: 'complete',
    parts: { planned: listing.header.parts, recorded: 0, missing: [] },
    entries: { planned: 0, copied: 0, kept: 0, failed: 0, missing: 0, extra: 0, mismatched: 0 },
    problems,
  };
  const ownersKept: boolean[] = [];
  const recorded = readRecords(listing, report, problems, ownersKept);
  const found: Found = new Map();
  listing.parts.forEach((part, k) => {
    report.entries.planned += part.length;
    const missingPart = report.parts.missing.includes(k);
    for (const entry of part) {
      const record = recorded.get(entry.path);
      if (record?.part !== k) {
        report.entries.missing++;
        if (!missingPart) problems.push(problemAt('entry-missing', listing.destination, entry.path, `planned in part ${k}, in no record of it`));
      } else if (record.outcome === 'failed') {
        report.entries.failed++;
        problems.push(problemAt('entry-failed', listing.destination, entry.path, `part ${k} recorded it failed${record.code ? ` (${record.code})` : ''}`));
      } else {
        report.entries[record.outcome]++;
        found.set(entry.path, entry);
      }
    }
  });
  // What planning could not list was never copied: an ordinary copy would have failed it.
  for (const failure of listing.header.failures ?? []) problems.push({ code: 'planning-failed', path: failure.path, detail: `it could not be listed when planned (${failure.code}), so no part copied it` });
  const { finalized, owners } = finalization(listing);
  if (!finalized) problems.push({ code: 'not-finalized', path: planFiles.finalized(plan), detail: 'directories get their modes and times from --finalize; run it, then check again' });
  const differences = await compareTrees({ listing, settings, found, directoryAttributes: finalized, ownersKept, directoryOwners: owners, checksum: options.checksum === true });
  report.entries.mismatched += differences.filter((difference) => STATUS_OF[difference.code] === 'mismatched').length;
  problems.push(...differences);
  problems.sort((a, b) => GRAVITY.indexOf(STATUS_OF[a.code]) - GRAVITY.indexOf(STATUS_OF[b.code]));
  report.status = problems.length === 0 ? 'complete' : STATUS_OF[problems[0]!.code];
  return report;
}

/**
 * Every part's record; a part without one (or with another plan's) is missing. Checks each recorded path against the plan.
 * Sets `ownersKept[k]` when part k says it kept the source's owners.
 */
function readRecords(listing: PlanListing, report: CheckReport, problems: CheckProblem[], ownersKept: boolean[]): Map<RawPath, Recorded> {
  const { plan, header, parts, destination } = listing;
  const plannedIn = new Map<RawPath, number>();
  parts.forEach((part, k) => {
    for (const entry of part) plannedIn.set(entry.path, k);
  });
  const recorded = new Map<RawPath, Recorded>();
  for (let k = 0; k < header.parts; k++) {
    const record = recordOf(plan, k);
    const foreign = typeof record !== 'string' && record.done.plan !== header.id ? `its record is of another plan (${record.done.plan})` : undefined;
    if (typeof record === 'string' || foreign !== undefined) {
      report.parts.missing.push(k);
      problems.push({ code: 'part-missing', path: planFiles.record(plan, k), detail: `part ${k}: ${foreign ?? record}` });
      continue;
    }
    report.parts.recorded++;
    ownersKept[k] = record.done.owners === true;
    for (const entry of record.entries) {
      const earlier = recorded.get(entry.path);
      if (earlier !== undefined) {
        report.entries.mismatched++;
        problems.push(problemAt('recorded-twice', destination, entry.path, `by part ${earlier.part} and by part ${k}`));
        continue;
      }
      recorded.set(entry.path, { part: k, outcome: entry.outcome, code: entry.code });
      const planned = plannedIn.get(entry.path);
      if (planned !== k) {
        report.entries.extra++;
        problems.push(problemAt('not-planned', destination, entry.path, planned === undefined ? `part ${k} recorded it, the plan has no such entry` : `part ${k} recorded it, planned in part ${planned}`));
      }
    }
  }
  return recorded;
}

/** A part's record, or why it has none. */
function recordOf(plan: string, k: number): { entries: RecordedEntry[]; done: { plan: string; owners?: boolean } } | string {
  try {
    return readRecord(plan, k) ?? 'no record: the part has not finished';
  } catch (error) {
    if (error instanceof PlanFileError) return `its record cannot be read (${error.message})`;
    throw error;
  }
}

/** Whether this plan was finalized, and whether its finalize gave the directories the source's owners (it ran as root). */
function finalization({ plan, header }: PlanListing): { finalized: boolean; owners: boolean } {
  try {
    const finalized = JSON.parse(fs.readFileSync(planFiles.finalized(plan), 'utf8')) as { plan?: unknown; owners?: unknown };
    return { finalized: finalized.plan === header.id, owners: finalized.plan === header.id && finalized.owners === true };
  } catch {
    return { finalized: false, owners: false };
  }
}
