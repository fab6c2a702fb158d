import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readHashState, stateHeader, stateLine } from '../../src/run/hash-state-file.js';
import { statKey } from '../../src/shared/hash-state.js';

const HASH = 'a'.repeat(64);
const ROOTS = { source: '/data', destination: '/mnt/backup/data' };
const KEY = statKey({ dev: 65024, ino: 12, size: 3, mtimeNs: 1_600_000_000_123_456_789n, ctimeNs: 1_600_000_001_000_000_001n });

describe('the manifest\'s hash state file', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foldercopy-state-'));
    file = path.join(dir, 'M.foldercopy-state');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads back what it wrote, names of any bytes included', () => {
    const odd = Buffer.from([0x62, 0xff, 0x0a, 0x5c]).toString('latin1');
    fs.writeFileSync(
      file,
      stateHeader(ROOTS) + stateLine('a/b', HASH, { source: KEY, destination: KEY, readBack: true }) + stateLine(odd, HASH, { source: KEY }),
    );
    const records = readHashState(file, ROOTS)!;
    expect(records.get('a/b')).toEqual({ hash: HASH, source: KEY, destination: KEY, readBack: true });
    expect(records.get(odd)).toEqual({ hash: HASH, source: KEY });
  });

  it('is no state when missing, made for other roots, truncated, or holding anything it does not know', () => {
    const line = stateLine('a', HASH, { source: KEY, destination: KEY });
    expect(readHashState(file, ROOTS)).toBeNull();
    fs.writeFileSync(file, stateHeader({ ...ROOTS, source: '/other' }) + line);
    expect(readHashState(file, ROOTS)).toBeNull();
    for (const garbled of [
      (stateHeader(ROOTS) + line).slice(0, -5),
      stateHeader(ROOTS) + line.replace(HASH, 'not a hash'),
      stateHeader(ROOTS) + line.replace(KEY, '1:2:3'),
      stateHeader(ROOTS) + '["a"]\n',
      stateHeader(ROOTS) + '{}\n',
      stateHeader(ROOTS).replace('"foldercopyHashState":1', '"foldercopyHashState":2') + line,
      '\u00ff\u0000\n',
    ]) {
      fs.writeFileSync(file, garbled);
      expect(readHashState(file, ROOTS), garbled).toBeNull();
    }
  });
});
