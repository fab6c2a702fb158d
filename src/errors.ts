/**
 * Errors a user can cause, and the exit codes a script can rely on.
 * A FoldercopyError is a user's or the environment's problem: the CLI prints its
 * message on one line. Anything else reaching the top is a bug in foldercopy.
 */
export const EXIT_CODES = {
  success: 0,
  someFailed: 1,
  usage: 2,
  interrupted: 130,
  terminated: 143,
} as const;

export class FoldercopyError extends Error {
  override readonly name = 'FoldercopyError';

  constructor(
    readonly code: string,
    message: string,
    readonly path?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
