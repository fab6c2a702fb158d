/**
 * --log: one JSON line per entry (created, overwritten, skipped, deleted or
 * failed), written as the run goes, so even an interrupted run leaves a record.
 */
import fs from 'node:fs';

export interface EntryEvent {
  /** Relative to the source (and the destination); '.' is the root. */
  path: string;
  action: 'create' | 'overwrite' | 'skip' | 'delete' | 'fail';
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'special';
  /** Bytes of a regular file. */
  size?: number;
  /** Why it was skipped or failed. */
  reason?: string;
}

const FLUSH_CHARS = 64 * 1024;

export class EntryLog {
  private readonly fd: number;
  private pending = '';

  constructor(path: string) {
    this.fd = fs.openSync(path, 'w');
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
