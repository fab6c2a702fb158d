/**
 * The manifest's sidecar, `<manifest>.foldercopy-state`: for each file of the
 * copy, its hash and the stats of the source and the copy it held for
 * (shared/hash-state.ts), so a re-run with the same manifest reads only what
 * changed. One JSON array a line, after a header naming the two roots. Read
 * once, whole, at the start of a run; anything it does not recognise (missing,
 * another tree's, garbled, another version) is no state at all: every file is
 * hashed, as on a first run. Written beside the manifest, under a temporary name
 * renamed at the end (manifest.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FileState, RecordedHash } from '../shared/hash-state.js';
import type { RawPath } from '../shared/raw-path.js';

const VERSION = 1;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const STAT_KEY = /^\d+:\d+:\d+:-?\d+:-?\d+$/;

/** The roots a state was made for: a state made for other roots is not used. */
export interface StateRoots {
  source: string;
  destination: string;
}

/** The header line: the version and the roots, absolute. */
export function stateHeader(roots: StateRoots): string {
  return `${JSON.stringify({ foldercopyHashState: VERSION, source: path.resolve(roots.source), destination: path.resolve(roots.destination) })}\n`;
}

/** One file's line. Paths are latin1 strings (RawPath): JSON carries each byte as one character, losslessly. */
export function stateLine(relativePath: RawPath, hash: string, state: FileState): string {
  return `${JSON.stringify([relativePath, hash, state.source ?? '', state.destination ?? '', state.readBack ? 1 : 0])}\n`;
}

/** The records of the state at `file`, by path; null when there is none this run can use. */
export function readHashState(file: string, roots: StateRoots): Map<RawPath, RecordedHash> | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const lines = text.split('\n');
  if (lines.pop() !== '') return null;
  try {
    if (lines.shift() !== stateHeader(roots).slice(0, -1)) return null;
    const records = new Map<RawPath, RecordedHash>();
    for (const line of lines) {
      const record = recordOf(JSON.parse(line) as unknown);
      if (!record) return null;
      records.set(record[0], record[1]);
    }
    return records;
  } catch {
    return null;
  }
}

function recordOf(value: unknown): [RawPath, RecordedHash] | null {
  if (!Array.isArray(value) || value.length !== 5) return null;
  const [relativePath, hash, source, destination, readBack] = value as unknown[];
  if (typeof relativePath !== 'string' || typeof hash !== 'string' || !SHA256_HEX.test(hash)) return null;
  if (typeof source !== 'string' || typeof destination !== 'string' || (readBack !== 0 && readBack !== 1)) return null;
  if ((source !== '' && !STAT_KEY.test(source)) || (destination !== '' && !STAT_KEY.test(destination))) return null;
  const record: RecordedHash = { hash, source };
  if (destination !== '') {
    record.destination = destination;
    if (readBack === 1) record.readBack = true;
  }
  return [relativePath, record];
}
