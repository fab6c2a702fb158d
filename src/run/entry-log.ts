/**
 * --log: one JSON line per entry (created, overwritten, skipped, deleted or
 * failed), written as the run goes, so even an interrupted run leaves a record.
 * Paths are lossless text (see pathText in shared/raw-path.ts): JSON writes a
 * byte that is not UTF-8 as `\udcXX` and a newline as `\n`. Writes are
 * buffered, to a file (the library's `log` option; the CLI's `--log -` is
 * cli/stdout.ts). A file that cannot be written to (a full disk)
 * is a failure of the run, returned once by the call that met it (the run
 * stops on it), never an exception in the middle of the copy.
 */
import fs from 'node:fs';
import { errorRecord, refusal, type ErrorRecord } from '../shared/errors.js';
import type { EntryEvent } from './types.js';

const FLUSH_CHARS = 64 * 1024;

export class EntryLog {
  private pending = '';
  private closed = false;
  private failed = false;

  private constructor(
    /** Writes the text; returns why it could not. */
    private readonly write: (text: string) => ErrorRecord | undefined,
    private readonly release: () => void,
  ) {}

  /** Opens (and truncates) the log file; one that cannot be written is a refusal. */
  static open(path: string): EntryLog {
    let fd: number;
    try {
      fd = fs.openSync(path, 'w');
    } catch (error) {
      throw refusal('LOG_UNWRITABLE', 'cannot write the log file', path, error);
    }
    return new EntryLog(
      (text) => {
        try {
          fs.writeSync(fd, text);
          return undefined;
        } catch (error) {
          return errorRecord(error, 'write', path);
        }
      },
      () => fs.closeSync(fd),
    );
  }

  /** Returns the failure to write, the first time one happens: the run stops on it. */
  add(event: EntryEvent): ErrorRecord | undefined {
    if (this.closed || this.failed) return undefined;
    this.pending += `${JSON.stringify(event)}\n`;
    return this.pending.length >= FLUSH_CHARS ? this.flush() : undefined;
  }

  /** Writes what is pending and closes a file; a second call does nothing. Returns a failure to write, as add() does. */
  close(): ErrorRecord | undefined {
    if (this.closed) return undefined;
    const failure = this.flush();
    this.closed = true;
    this.release();
    return failure;
  }

  /** The first failure is the one reported; nothing more is written after it. */
  private flush(): ErrorRecord | undefined {
    if (this.pending === '' || this.failed) return undefined;
    const failure = this.write(this.pending);
    this.pending = '';
    if (failure) this.failed = true;
    return failure;
  }
}
