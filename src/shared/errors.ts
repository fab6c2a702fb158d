/**
 * The error model, in one place. Three kinds reach the user, each with a code,
 * an operation and a path:
 *  - a refusal (FoldercopyError): the copy cannot start and nothing has been
 *    written; one line, exit 2, and a `--json` document with status "refused";
 *  - an entry failure (an ErrorRecord in the summary's failures): one line, the
 *    copy goes on, exit 1;
 *  - a run stop (an ErrorRecord as the summary's stoppedBy): a destination-wide
 *    fault or workers that cannot run; one line naming the cause, exit 1.
 * Records are plain values, so they cross the IPC channel whole. Anything else
 * reaching the top is a bug in foldercopy, and only that prints a stack trace.
 */
import { getSystemErrorMap } from 'node:util';
import type { CopySummary } from '../run/types.js';
import type { RawPath } from './raw-path.js';

export const EXIT_CODES = {
  success: 0,
  someFailed: 1,
  usage: 2,
  /** --plan --check: a part did not finish, or a planned entry was not copied. */
  incomplete: 3,
  /** --plan --check: the destination or the records disagree with the plan or the source. */
  mismatched: 4,
  /** --plan --check: the source changed since planning. */
  sourceChanged: 5,
  hangup: 129,
  interrupted: 130,
  terminated: 143,
} as const;

/** A refusal: the user's or the environment's problem, found before anything was written. */
export class FoldercopyError extends Error {
  override readonly name = 'FoldercopyError';
  /** copyFolders(): a source refused once others were copied; what those copies did. */
  copied?: CopySummary;

  constructor(
    readonly code: string,
    message: string,
    readonly path?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What was being done when an entry failed; names the "what failed" part of its message. */
export type Operation =
  | 'list'
  | 'stat'
  | 'read'
  | 'write'
  | 'mkdir'
  | 'rename'
  | 'link'
  | 'set-metadata'
  | 'verify'
  | 'delete'
  | 'backup'
  | 'worker';

/** An error as a plain value: Error fields are not enumerable and would not survive IPC. */
export interface ErrorRecord {
  code: string;
  message: string;
  operation: Operation;
  path: RawPath;
}

const systemErrors = getSystemErrorMap();

/** Turns a thrown fs error into a record; the message is the system's reason, without Node's path decoration. */
export function errorRecord(error: unknown, operation: Operation, path: RawPath): ErrorRecord {
  const { code, errno, message } = (error ?? {}) as NodeJS.ErrnoException;
  const reason = typeof errno === 'number' ? systemErrors.get(errno)?.[1] : undefined;
  return {
    code: code ?? 'EUNKNOWN',
    message: reason ?? message ?? String(error),
    operation,
    path,
  };
}

/** A refusal for a system error met at `path`: the system's reason and code, not Node's decoration. */
export function refusal(code: string, what: string, path: string, error: unknown): FoldercopyError {
  const { code: errno, message } = errorRecord(error, 'stat', path);
  return new FoldercopyError(code, `${what}: ${path}: ${message} (${errno})`, path, { cause: error });
}

/** A run stop found where it happens (the pool): the run's sequence catches it and the record becomes stoppedBy. */
export class RunStopped extends Error {
  override readonly name = 'RunStopped';

  constructor(readonly record: ErrorRecord) {
    super(record.message);
  }
}
