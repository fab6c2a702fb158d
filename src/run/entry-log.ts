/**
 * --log: one JSON line per entry (created, overwritten, skipped, deleted or
 * failed), written as the run goes, so even an interrupted run leaves a record.
 * Paths are lossless text (see pathText in shared/raw-path.ts): JSON writes a
 * byte that is not UTF-8 as `\udcXX` and a newline as `\n`. Writes are
 * buffered, to a file (the library's `log` option) or to a stream (the CLI's
 * `--log -`, standard output). A file that cannot be written to (a full disk)
 * is a failure of the run, handed to whoever watches (the run stops on it),
 * never an exception in the middle of the copy.
 */
import fs from 'node:fs';
import { errorRecord, refusal, type ErrorRecord } from '../shared/errors.js';
import type { EntryEvent } from './types.js';

const FLUSH_CHARS = 64 * 1024;

export class EntryLog {
  private pending = '';
  private closed = false;
  private failed = false;
  private onFailure: (error: ErrorRecord) => void = () => undefined;

  private constructor(
    private readonly write: (text: string) => void,
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
    const log: EntryLog = new EntryLog(
      (text) => {
        try {
          fs.writeSync(fd, text);
        } catch (error) {
          log.fail(errorRecord(error, 'write', path));
        }
      },
      () => fs.closeSync(fd),
    );
    return log;
  }

  /** A log on a stream that stays open (standard output); its errors, EPIPE included, are the stream's owner's to handle. */
  static toStream(stream: NodeJS.WritableStream): EntryLog {
    return new EntryLog(
      (text) => stream.write(text),
      () => undefined,
    );
  }

  /** Where a failure to write goes: the run's stop. */
  whenFailed(handler: (error: ErrorRecord) => void): void {
    this.onFailure = handler;
  }

  add(event: EntryEvent): void {
    if (this.closed || this.failed) return;
    this.pending += `${JSON.stringify(event)}\n`;
    if (this.pending.length >= FLUSH_CHARS) this.flush();
  }

  /** Writes what is pending and closes a file; a second call does nothing. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.release();
  }

  private flush(): void {
    if (this.pending === '' || this.failed) return;
    this.write(this.pending);
    this.pending = '';
  }

  /** The first failure is the one reported; nothing more is written after it. */
  private fail(error: ErrorRecord): void {
    if (this.failed) return;
    this.failed = true;
    this.onFailure(error);
  }
}
