/**
 * Standard output carries only what the user asked for (the -n listing, -v
 * lines, --json, `--log -`). When it cannot be written, its reader gone
 * (`| head`) or its disk full: one line, and an exit code that says not all was
 * delivered. The copy goes on unheard rather than stop halfway. Failures of
 * stderr have nowhere to be told.
 */
import { EXIT_CODES, type CopyFailure, type EntryEvent } from '../index.js';
import { systemError } from './lists.js';
import { failureLine } from './report.js';

const FLUSH_CHARS = 64 * 1024;

let stdoutFailure: CopyFailure | undefined;

/** Once, at start: a failure of stdout is told once and makes the exit code a failure. */
export function watchStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (stdoutFailure) return;
    stdoutFailure = { ...systemError(error), operation: 'write', path: 'standard output' };
    process.stderr.write(`${failureLine(stdoutFailure)}\n`);
    setExitCode(Number(process.exitCode ?? EXIT_CODES.success));
  });
  process.stderr.on('error', () => undefined);
}

/** The run's exit code, made a failure when stdout lost what was asked for. */
export function setExitCode(code: number): void {
  process.exitCode = code === EXIT_CODES.success && stdoutFailure ? EXIT_CODES.someFailed : code;
}

/**
 * `--log -`: one JSON line per entry, as the library's log file has them (paths lossless: JSON writes a byte that
 * is not UTF-8 as `\udcXX`), buffered as the file is. The stream stays open; its errors are handled above.
 */
export class StdoutLog {
  private pending = '';
  private closed = false;

  constructor(private readonly stream: NodeJS.WritableStream) {}

  add(event: EntryEvent): void {
    if (this.closed) return;
    this.pending += `${JSON.stringify(event)}\n`;
    if (this.pending.length >= FLUSH_CHARS) this.flush();
  }

  /** Writes what is pending; a second call does nothing. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
  }

  private flush(): void {
    if (this.pending === '') return;
    this.stream.write(this.pending);
    this.pending = '';
  }
}
