/**
 * --log: one JSON line per entry (created, overwritten, skipped, deleted or
 * failed), written as the run goes, so even an interrupted run leaves a record.
 */
import fs from 'node:fs';
import { refusal } from '../shared/errors.js';
import type { EntryEvent } from './types.js';

const FLUSH_CHARS = 64 * 1024;

export class EntryLog {
  private pending = '';

  private constructor(private readonly fd: number) {}

  /** Opens (and truncates) the log file; one that cannot be written is a refusal. */
  static open(path: string): EntryLog {
    try {
      return new EntryLog(fs.openSync(path, 'w'));
    } catch (error) {
      throw refusal('LOG_UNWRITABLE', 'cannot write the log file', path, error);
    }
  }

  add(event: EntryEvent): void {
    this.pending += `${JSON.stringify(event)}\n`;
    if (this.pending.length >= FLUSH_CHARS) this.flush();
  }

  close(): void {
    this.flush();
    fs.closeSync(this.fd);
  }

  private flush(): void {
    if (this.pending === '') return;
    fs.writeSync(this.fd, this.pending);
    this.pending = '';
  }
}
