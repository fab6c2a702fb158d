/**
 * What the user reads at the end, and the exit code a script acts on.
 * One line per failure: `foldercopy: <what failed>: <path>: <reason>`.
 * The library's paths are lossless text; every line for people renders them
 * with displayText (escapes), while --json keeps them as they are.
 */
import { EXIT_CODES, type CopyFailure, type PartSummary, type CopySkip, type CopySummary, type CopyWarning, type EntryEvent, type FoldercopyError, type MetadataNotKept, type Operation, type Shard, type SnapshotReport, type VerifiedCount } from '../index.js';
import { inCliTerms } from './arguments.js';
import { STOP_SIGNALS, type StopSignal } from './signals.js';
import { displayText, formatBytes, formatCount, formatDuration, formatRate } from './format.js';

const WHAT_FAILED: Record<Operation, string> = {
  list: 'cannot list directory',
  stat: 'cannot stat',
  read: 'cannot read',
  write: 'cannot write',
  mkdir: 'cannot create directory',
  rename: 'cannot move into place',
  link: 'cannot create hard link',
  'set-metadata': 'cannot set mode, owner or times',
  verify: 'verification failed',
  delete: 'cannot delete',
  backup: 'cannot keep a backup',
  worker: 'worker process died',
};

export function failureLine(failure: CopyFailure): string {
  return `foldercopy: ${WHAT_FAILED[failure.operation]}: ${displayText(failure.path)}: ${displayText(inCliTerms(failure.message))} (${displayText(failure.code)})`;
}

export function skipLine(skip: CopySkip): string {
  return `foldercopy: skipped ${displayText(skip.reason)} (never opened): ${displayText(skip.path)}`;
}

/** Something beside the destination that was not trusted: taken over or left alone. */
export function warningLine(warning: CopyWarning): string {
  return `foldercopy: note: ${displayText(warning.message)}: ${displayText(warning.path)}`;
}

/** Why the copy could not start (exit 2). */
export function refusalLine(error: FoldercopyError): string {
  return `foldercopy: ${displayText(error.message)}`;
}

/** After a second Ctrl-C, when a first copy was being staged: where it is, and how to finish it. */
export function stagedCopyLine(stagingPath: string): string {
  return `foldercopy: the partial copy is in ${displayText(stagingPath)}; run the same command again to resume it`;
}

/** `shard`: the run was one shard of a --shard split, which the summary line says first (`shard 2/8: copied …`). */
export function summaryLines(summary: CopySummary, { quiet = false, shard }: { quiet?: boolean; shard?: Shard | undefined } = {}): string[] {
  const seconds = summary.durationMs / 1000;
  const parts = [
    `${formatCount(summary.files)} ${plural(summary.files, 'file')}`,
    `${formatCount(summary.directories)} ${plural(summary.directories, 'directory', 'directories')}`,
    `${formatCount(summary.symlinks)} ${plural(summary.symlinks, 'symlink')}`,
  ];
  if (summary.hardLinks > 0) parts.push(`${formatCount(summary.hardLinks)} ${plural(summary.hardLinks, 'hard link')}`);
  const outcome = summary.aborted
    ? 'interrupted after copying'
    : summary.stoppedBy
      ? 'stopped after copying'
      : summary.dryRun
        ? 'dry run, nothing changed: would copy'
        : 'copied';
  // As --json counts them: `skipped` are entries left as they were; special files are counted apart.
  const tail = [`${formatCount(summary.skipped)} skipped`];
  // Files shared with a link-dest tree: said only where there are some, as deletions are.
  if (summary.linked > 0) tail.unshift(`${formatCount(summary.linked)} ${summary.dryRun ? 'to link' : 'linked'}`);
  const special = summary.specialFiles.length;
  if (special > 0) tail.push(`${formatCount(special)} ${plural(special, 'special file')} not copied`);
  if (summary.deleted > 0) tail.push(`${formatCount(summary.deleted)} ${summary.dryRun ? 'to delete' : 'deleted'}`);
  if (summary.backedUp > 0) tail.push(`${formatCount(summary.backedUp)} backed up`);
  tail.push(`${formatCount(summary.failures.length)} failed`);
  // A dry run's speed says nothing about the copy's.
  const timing = summary.dryRun ? '' : ` in ${formatDuration(summary.durationMs)} (${formatRate(seconds > 0 ? summary.bytes / seconds : 0)})`;
  const lines = [`foldercopy: ${shard ? `shard ${shard.index}/${shard.count}: ` : ''}${outcome} ${parts.join(', ')}, ${formatBytes(summary.bytes)}${timing}; ${tail.join(', ')}`];
  if (summary.stoppedBy) lines.push(`foldercopy: copy stopped: ${failureLine(summary.stoppedBy).slice('foldercopy: '.length)}`);
  // What a second Ctrl-C says of a staged copy holds for any interrupted copy, now under its final name.
  // (A snapshot's copy is not finished by a re-run, which makes a new snapshot: its own line says where it is.)
  if (summary.aborted && !summary.dryRun && !summary.snapshot) lines.push(`foldercopy: ${displayText(summary.destination)} holds a partial copy; run the same command again to finish it`);
  // -q prints what went wrong only: a count of files verified, or a snapshot made, is news only without it.
  if (summary.verified && !quiet) lines.push(verifiedLine(summary.verified));
  if (summary.deletionSkipped) lines.push(deletionSkippedLine(summary));
  lines.push(...metadataNotKeptLines(summary));
  if (summary.snapshot && !(quiet && summary.snapshot.complete)) lines.push(...snapshotLines(summary, summary.snapshot));
  return lines;
}

/** Where the snapshot is and what it shares, or why it was not published and where its copy is. */
function snapshotLines(summary: CopySummary, snapshot: SnapshotReport): string[] {
  const against = snapshot.linkedAgainst === null ? 'the first one, linked against none' : `linked against ${displayText(snapshot.linkedAgainst)}`;
  if (summary.dryRun) return [`foldercopy: would make snapshot ${displayText(snapshot.path)} (${against})`];
  if (!snapshot.complete) {
    return [`foldercopy: snapshot not published, as it is incomplete: its copy is in ${displayText(summary.destination)}; the earlier snapshots and latest are as they were`];
  }
  const lines = [`foldercopy: snapshot ${displayText(snapshot.path)} (${against}); latest points at it`];
  if (snapshot.removed.length > 0) {
    lines.push(`foldercopy: removed ${formatCount(snapshot.removed.length)} old ${plural(snapshot.removed.length, 'snapshot')} (--keep): ${snapshot.removed.map(displayText).join(', ')}`);
  }
  return lines;
}

/** Each kind of loss, in the order the summary tells them. */
const LOSSES: Readonly<Record<keyof MetadataNotKept, string>> = {
  xattrsNotSupported: 'extended attributes not supported by the destination',
  aclsNotSupported: 'ACLs not supported by the destination',
  xattrsRefused: 'extended attributes refused by the destination (EPERM)',
  unavailable: 'extended attributes, ACLs and nanosecond times not kept: not available on this platform',
};

/** What entries were copied without, once per kind of loss: `12 entries: extended attributes not supported by the destination`. */
function metadataNotKeptLines(summary: CopySummary): string[] {
  const lost = summary.metadataNotKept;
  return (Object.keys(LOSSES) as Array<keyof MetadataNotKept>)
    .filter((key) => lost[key] > 0)
    .map((key) => `foldercopy: ${formatCount(lost[key])} ${plural(lost[key], 'entry', 'entries')}: ${LOSSES[key]}`);
}


/** --verify's count, and how the copies were read: "0 failed" alone does not say that anything was checked. */
function verifiedLine({ files, throughCache, unchanged }: VerifiedCount): string {
  const count = `foldercopy: verified ${formatCount(files)} ${plural(files, 'file')} against the source`;
  if (unchanged > 0) {
    // Not read this time: both sides' stats are those the manifest's state recorded when they were read back.
    const read = files - unchanged;
    return `${count}: ${formatCount(unchanged)} unchanged since the manifest's run read ${plural(unchanged, 'it', 'them')} back, ${formatCount(read)} read back${throughCache > 0 ? ` (${formatCount(throughCache)} through the page cache)` : ''}`;
  }
  if (throughCache === 0) return `${count}${files > 0 ? ', read back from the disk after fsync' : ''}`;
  return `${count}; ${formatCount(throughCache)} of them read through the page cache, not from the disk: their cached pages could not be dropped here`;
}

function deletionSkippedLine(summary: CopySummary): string {
  return `foldercopy: ${summary.dryRun ? 'would delete nothing' : 'deleted nothing'}: ${displayText(inCliTerms(summary.deletionSkipped ?? ''))}`;
}

export function exitCodeFor(summary: CopySummary, stoppedBySignal: StopSignal | undefined): number {
  if (summary.aborted && stoppedBySignal) return STOP_SIGNALS[stoppedBySignal];
  if (summary.failures.length > 0 || summary.stoppedBy || summary.aborted || summary.deletionSkipped) return EXIT_CODES.someFailed;
  return EXIT_CODES.success;
}

/**
 * The --json document. Its shape is documented in the README; schemaVersion changes if it ever changes incompatibly.
 * For several copies (`copies` given, `summary` their combinedSummary), `source` is null and `sources` lists each
 * copy's source and destination. A --shard run has `shard` ({ index, count }), other runs none.
 */
export function summaryJson(summary: CopySummary, exitCode: number, { copies, shard }: { copies?: readonly CopySummary[] | undefined; shard?: Shard | undefined } = {}): string {
  const status = summary.aborted ? 'interrupted' : summary.stoppedBy ? 'stopped' : exitCode === EXIT_CODES.success ? 'ok' : 'failed';
  const document = {
    schemaVersion: 1,
    status,
    exitCode,
    dryRun: summary.dryRun,
    ...(shard && { shard: { index: shard.index, count: shard.count } }),
    source: copies ? null : summary.source,
    ...(copies && { sources: copies.map(({ source, destination }) => ({ source, destination })) }),
    destination: summary.destination,
    durationMs: Math.round(summary.durationMs),
    bytes: summary.bytes,
    backedUp: summary.backedUp,
    counts: {
      files: summary.files,
      directories: summary.directories,
      symlinks: summary.symlinks,
      hardLinks: summary.hardLinks,
      created: summary.created,
      linked: summary.linked,
      overwritten: summary.overwritten,
      skipped: summary.skipped,
      deleted: summary.deleted,
      specialFiles: summary.specialFiles.length,
      failed: summary.failures.length,
    },
    // The command's own words: flags, where the library names its options.
    failures: summary.failures.map(failureJson),
    specialFiles: summary.specialFiles,
    stoppedBy: summary.stoppedBy === undefined ? null : failureJson(summary.stoppedBy),
    deletionSkipped: summary.deletionSkipped === undefined ? null : inCliTerms(summary.deletionSkipped),
    metadataNotKept: summary.metadataNotKept,
    verified: summary.verified === undefined ? null : verifiedJson(summary.verified),
    warnings: summary.warnings,
    ...(summary.snapshot && { snapshot: summary.snapshot }),
    // A planned copy's part: which one, of which plan.
    ...('part' in summary && { part: (summary as PartSummary).part, plan: (summary as PartSummary).plan }),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** --verify's count in --json: how many files were read back from the disk and how many through the page cache. */
function verifiedJson({ files, throughCache, unchanged }: VerifiedCount): { files: number; fromDisk: number; throughPageCache: number; unchanged: number } {
  return { files, fromDisk: files - throughCache - unchanged, throughPageCache: throughCache, unchanged };
}

/** A failure in --json: `entry` always present (null when no entry of the copy failed), the message in the command's words. */
function failureJson(failure: CopyFailure): Omit<CopyFailure, 'entry'> & { entry: string | null } {
  const { path, entry, code, operation, message } = failure;
  return { path, entry: entry ?? null, code, operation, message: inCliTerms(message) };
}

/** The --json document when the copy could not start (bad arguments, a refused source or destination). */
export function refusalJson(error: FoldercopyError, exitCode: number): string {
  const document = { schemaVersion: 1, status: 'refused', exitCode, error: { code: error.code, message: error.message, path: error.path ?? null } };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** One line per entry for --verbose and --dry-run: what happened (or would) to it. */
export function entryLine(event: EntryEvent): string {
  return `${event.action} ${displayText(event.path)}${event.reason ? ` (${displayText(event.reason)})` : ''}`;
}

/** One line for -i, as rsync's --itemize-changes prints it: `>f.st...... path`, `cd+++++++++ dir/`, `cL+++++++++ link -> target`. */
export function itemLine(event: EntryEvent): string {
  const path = event.path === '.' ? './' : `${displayText(event.path)}${event.type === 'directory' ? '/' : ''}`;
  const target = event.target === undefined ? '' : `${event.type === 'symlink' ? ' -> ' : ' => '}${displayText(event.target)}`;
  return `${event.changes ?? ''} ${path}${target}`;
}

/** Whether an item says something changed, what -i prints (-ii prints every one): rsync leaves the attribute columns blank when nothing did. */
export function itemChanged(changes: string): boolean {
  return changes.slice(2).trim() !== '';
}

function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return n === 1 ? singular : pluralForm;
}
