/**
 * --manifest: the SHA-256 of every regular file in the copy, in `sha256sum`
 * format with paths relative to the destination, so `cd dest && sha256sum -c`
 * checks the copy later. Written under a temporary name and renamed when the
 * run ends, so a manifest at its final name is never half written. One that
 * cannot be written (a full disk) is removed, and the failure is returned
 * once, by the call that met it (the run stops on it).
 */
import fs from 'node:fs';
import { errorRecord, refusal, type ErrorRecord } from '../shared/errors.js';
import { bytesFromRaw, type RawPath } from '../shared/raw-path.js';
import { manifestTempPathFor } from '../shared/names-on-disk.js';

const FLUSH_BYTES = 64 * 1024;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

export class Manifest {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private failed = false;
  private open = true;

  private constructor(
    private readonly path: string,
    private readonly temp: string,
    private readonly fd: number,
  ) {}

  /** Opens the manifest under its temporary name; a directory that cannot be written is a refusal. */
  static open(path: string): Manifest {
    const temp = manifestTempPathFor(path, process.pid);
    try {
      return new Manifest(path, temp, fs.openSync(temp, 'w'));
    } catch (error) {
      throw refusal('MANIFEST_UNWRITABLE', 'cannot write the manifest', path, error);
    }
  }

  /** Returns the failure to write, the first time one happens. */
  add(relativePath: RawPath, sha256: string): ErrorRecord | undefined {
    if (this.failed) return undefined;
    const name = bytesFromRaw(relativePath);
    // GNU sha256sum marks a line whose name holds a backslash or a newline with a leading backslash and escapes them.
    const line = name.includes(BACKSLASH) || name.includes(NEWLINE)
      ? Buffer.concat([Buffer.from(`\\${sha256}  `), escapeName(name), Buffer.from('\n')])
      : Buffer.concat([Buffer.from(`${sha256}  `), name, Buffer.from('\n')]);
    this.pending.push(line);
    this.pendingBytes += line.length;
    return this.pendingBytes >= FLUSH_BYTES ? this.flush() : undefined;
  }

  /** Writes the rest and gives the manifest its name; returns a failure to write, as add() does. */
  close(): ErrorRecord | undefined {
    const failure = this.flush();
    if (this.failed) return failure;
    try {
      this.closeFile();
      fs.renameSync(this.temp, this.path);
      return undefined;
    } catch (error) {
      return this.fail(error);
    }
  }

  /** A run refused after the manifest was opened leaves nothing behind. */
  discard(): void {
    this.closeFile();
    fs.rmSync(this.temp, { force: true });
  }

  /** Once: a descriptor number closed twice could be another file's by then. */
  private closeFile(): void {
    if (!this.open) return;
    this.open = false;
    fs.closeSync(this.fd);
  }

  private flush(): ErrorRecord | undefined {
    if (this.pending.length === 0 || this.failed) return undefined;
    let failure: ErrorRecord | undefined;
    try {
      fs.writeSync(this.fd, Buffer.concat(this.pending));
    } catch (error) {
      failure = this.fail(error);
    }
    this.pending = [];
    this.pendingBytes = 0;
    return failure;
  }

  /** A manifest that misses files is no manifest: the temporary file goes, and the failure is reported once. */
  private fail(error: unknown): ErrorRecord {
    this.failed = true;
    this.discard();
    return errorRecord(error, 'write', this.path);
  }
}

function escapeName(name: Buffer): Buffer {
  const text = name.toString('latin1').replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return Buffer.from(text, 'latin1');
}
