/**
 * What the user reads at the end, and the exit code a script acts on.
 * One line per failure: `foldercopy: <what failed>: <path>: <reason>`.
 */
import type { CopyFailure, CopySkip, CopySummary } from './api.js';
import { EXIT_CODES } from './errors.js';
import { formatBytes, formatCount, formatDuration, formatRate } from './format.js';
import type { Operation } from './protocol.js';

const WHAT_FAILED: Record<Operation, string> = {
  list: 'cannot list directory',
  stat: 'cannot stat',
  read: 'cannot read',
  write: 'cannot write',
  mkdir: 'cannot create directory',
  rename: 'cannot move into place',
  link: 'cannot create hard link',
  'set-metadata': 'cannot set mode, owner or times',
  worker: 'worker process died',
};

export function failureLine(failure: CopyFailure): string {
  return `foldercopy: ${WHAT_FAILED[failure.operation]}: ${failure.path}: ${failure.message} (${failure.code})`;
}

export function skipLine(skip: CopySkip): string {
  return `foldercopy: skipped ${skip.reason} (never opened): ${skip.path}`;
}

export function summaryLines(summary: CopySummary): string[] {
  const seconds = summary.durationMs / 1000;
  const parts = [
    `${formatCount(summary.files)} ${plural(summary.files, 'file')}`,
    `${formatCount(summary.directories)} ${plural(summary.directories, 'directory', 'directories')}`,
    `${formatCount(summary.symlinks)} ${plural(summary.symlinks, 'symlink')}`,
  ];
  if (summary.hardLinks > 0) parts.push(`${formatCount(summary.hardLinks)} ${plural(summary.hardLinks, 'hard link')}`);
  const outcome = summary.aborted ? 'interrupted after copying' : summary.stoppedBy ? 'stopped after copying' : 'copied';
  const lines = [
    `foldercopy: ${outcome} ${parts.join(', ')}, ${formatBytes(summary.bytes)} in ${formatDuration(summary.durationMs)}` +
      ` (${formatRate(seconds > 0 ? summary.bytes / seconds : 0)}); ${formatCount(summary.skipped.length)} skipped, ` +
      `${formatCount(summary.failures.length)} failed`,
  ];
  if (summary.stoppedBy) lines.push(`foldercopy: copy stopped: ${failureLine(summary.stoppedBy).slice('foldercopy: '.length)}`);
  return lines;
}

export function exitCodeFor(summary: CopySummary, stoppedBySignal: 'SIGINT' | 'SIGTERM' | undefined): number {
  if (summary.aborted && stoppedBySignal) return stoppedBySignal === 'SIGINT' ? EXIT_CODES.interrupted : EXIT_CODES.terminated;
  if (summary.failures.length > 0 || summary.stoppedBy || summary.aborted) return EXIT_CODES.someFailed;
  return EXIT_CODES.success;
}

function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return n === 1 ? singular : pluralForm;
}
