/**
 * --manifest: the SHA-256 of every regular file in the copy, in `sha256sum`
 * format with paths relative to the destination, so `cd dest && sha256sum -c`
 * checks the copy later; and beside it its hash state (hash-state-file.ts), the
 * stats each hash held for, which the next run with the same manifest reads
 * first so that it hashes only what changed. Both are written under temporary
 * names and renamed when the run ends, so neither is ever half written at its
 * name. One that cannot be written (a full disk) is removed, with its
 * companion, and the failure is returned once, by the call that met it (the
 * run stops on it).
 */
import fs from 'node:fs';
import { errorRecord, refusal, type ErrorRecord } from '../shared/errors.js';
import type { FileState, RecordedHash } from '../shared/hash-state.js';
import { bytesFromRaw, type RawPath } from '../shared/raw-path.js';
import { hashStatePathFor, manifestTempPathFor } from '../shared/names-on-disk.js';
import { readHashState, stateHeader, stateLine, type StateRoots } from './hash-state-file.js';

const FLUSH_BYTES = 64 * 1024;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

/** One of the two files: written in chunks under its temporary name. */
interface Output {
  path: string;
  temp: string;
  fd: number;
  pending: Buffer[];
  pendingBytes: number;
}

export class Manifest {
  private failed = false;
  private open = true;

  private constructor(
    private readonly sums: Output,
    private readonly state: Output,
    /** The previous run's records, by path; null when there were none this run can use. */
    readonly recorded: Map<RawPath, RecordedHash> | null,
  ) {}

  /** Opens the manifest and its state under their temporary names, after reading the previous state; a directory that cannot be written is a refusal. */
  static open(path: string, roots: StateRoots): Manifest {
    const statePath = hashStatePathFor(path);
    const recorded = readHashState(statePath, roots);
    const sums = output(path);
    let state: Output;
    try {
      state = output(statePath);
    } catch (error) {
      fs.closeSync(sums.fd);
      fs.rmSync(sums.temp, { force: true });
      throw error;
    }
    const manifest = new Manifest(sums, state, recorded);
    manifest.push(state, Buffer.from(stateHeader(roots)));
    return manifest;
  }

  /**
   * Returns the failure to write, the first time one happens. `record`: what the next run's record of it says,
   * under its job's path (a single file's is '', where the manifest names the file).
   */
  add(relativePath: RawPath, sha256: string, record?: { path: RawPath; state: FileState }): ErrorRecord | undefined {
    if (this.failed) return undefined;
    const name = bytesFromRaw(relativePath);
    // GNU sha256sum marks a line whose name holds a backslash or a newline with a leading backslash and escapes them.
    const line = name.includes(BACKSLASH) || name.includes(NEWLINE)
      ? Buffer.concat([Buffer.from(`\\${sha256}  `), escapeName(name), Buffer.from('\n')])
      : Buffer.concat([Buffer.from(`${sha256}  `), name, Buffer.from('\n')]);
    const failure = this.push(this.sums, line);
    if (failure || !record) return failure;
    return this.push(this.state, Buffer.from(stateLine(record.path, sha256, record.state), 'utf8'));
  }

  /** Writes the rest and gives both files their names (the state first: a manifest at its name always has its own); returns a failure to write, as add() does. */
  close(): ErrorRecord | undefined {
    const failure = this.flush(this.sums) ?? this.flush(this.state);
    if (this.failed) return failure;
    try {
      this.closeFiles();
      fs.renameSync(this.state.temp, this.state.path);
      fs.renameSync(this.sums.temp, this.sums.path);
      return undefined;
    } catch (error) {
      return this.fail(error);
    }
  }

  /** A run refused after the manifest was opened leaves nothing behind. */
  discard(): void {
    this.closeFiles();
    fs.rmSync(this.sums.temp, { force: true });
    fs.rmSync(this.state.temp, { force: true });
  }

  /** Once: a descriptor number closed twice could be another file's by then. */
  private closeFiles(): void {
    if (!this.open) return;
    this.open = false;
    fs.closeSync(this.sums.fd);
    fs.closeSync(this.state.fd);
  }

  private push(to: Output, line: Buffer): ErrorRecord | undefined {
    to.pending.push(line);
    to.pendingBytes += line.length;
    return to.pendingBytes >= FLUSH_BYTES ? this.flush(to) : undefined;
  }

  private flush(to: Output): ErrorRecord | undefined {
    if (to.pending.length === 0 || this.failed) return undefined;
    let failure: ErrorRecord | undefined;
    try {
      fs.writeSync(to.fd, Buffer.concat(to.pending));
    } catch (error) {
      failure = this.fail(error, to.path);
    }
    to.pending = [];
    to.pendingBytes = 0;
    return failure;
  }

  /** A manifest that misses files is no manifest: the temporary files go, and the failure is reported once. */
  private fail(error: unknown, path = this.sums.path): ErrorRecord {
    this.failed = true;
    this.discard();
    return errorRecord(error, 'write', path);
  }
}

/** A file opened under its temporary name; a directory that cannot be written is a refusal. */
function output(path: string): Output {
  const temp = manifestTempPathFor(path, process.pid);
  try {
    return { path, temp, fd: fs.openSync(temp, 'w'), pending: [], pendingBytes: 0 };
  } catch (error) {
    throw refusal('MANIFEST_UNWRITABLE', 'cannot write the manifest', path, error);
  }
}

function escapeName(name: Buffer): Buffer {
  const text = name.toString('latin1').replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return Buffer.from(text, 'latin1');
}
