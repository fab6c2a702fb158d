/**
 * --log: one JSON line per entry (created, overwritten, skipped, deleted or
 * failed), written as the run goes, so even an interrupted run leaves a record.
 * Paths are lossless text (see pathText in shared/raw-path.ts): JSON writes a
 * byte that is not UTF-8 as `\udcXX` and a newline as `\n`. Writes are
 * buffered, to a file (the library's `log` option) or to a stream (the CLI's
 * `--log -`, standard output).
 */
import fs from 'node:fs';
import { refusal } from '../shared/errors.js';
import type { EntryEvent } from './types.js';

const FLUSH_CHARS = 64 * 1024;

export class EntryLog {
  private pending = '';
  private closed = false;

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
    return new EntryLog(
      (text) => fs.writeSync(fd, text),
      () => fs.closeSync(fd),
    );
  }

  /** A log on a stream that stays open (standard output); its errors, EPIPE included, are the stream's owner's to handle. */
  static toStream(stream: NodeJS.WritableStream): EntryLog {
    return new EntryLog(
      (text) => stream.write(text),
      () => undefined,
    );
  }

  add(event: EntryEvent): void {
    if (this.closed) return;
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
    if (this.pending === '') return;
    this.write(this.pending);
    this.pending = '';
  }
}
