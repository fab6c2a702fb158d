/**
 * --manifest: the SHA-256 of every regular file in the copy, in `sha256sum`
 * format with paths relative to the destination, so `cd dest && sha256sum -c`
 * checks the copy later. Written under a temporary name and renamed when the
 * run ends, so a manifest at its final name is never half written.
 */
import fs from 'node:fs';
import { bytesFromRaw, type RawPath } from './raw-path.js';
import { TEMP_NAME_SUFFIX } from './temp-name.js';

const FLUSH_BYTES = 64 * 1024;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

export class Manifest {
  private readonly temp: string;
  private readonly fd: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly path: string) {
    this.temp = `${path}.${process.pid}${TEMP_NAME_SUFFIX}`;
    this.fd = fs.openSync(this.temp, 'w');
  }

  add(relativePath: RawPath, sha256: string): void {
    const name = bytesFromRaw(relativePath);
    // GNU sha256sum marks a line whose name holds a backslash or a newline with a leading backslash and escapes them.
    const line = name.includes(BACKSLASH) || name.includes(NEWLINE)
      ? Buffer.concat([Buffer.from(`\\${sha256}  `), escapeName(name), Buffer.from('\n')])
      : Buffer.concat([Buffer.from(`${sha256}  `), name, Buffer.from('\n')]);
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  /** Writes the rest and gives the manifest its name. */
  close(): void {
    this.flush();
    fs.closeSync(this.fd);
    fs.renameSync(this.temp, this.path);
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    fs.writeSync(this.fd, Buffer.concat(this.pending));
    this.pending = [];
    this.pendingBytes = 0;
  }
}

function escapeName(name: Buffer): Buffer {
  const text = name.toString('latin1').replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return Buffer.from(text, 'latin1');
}
