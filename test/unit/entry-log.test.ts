import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EntryLog } from '../../src/run/entry-log.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('EntryLog', () => {
  it('in a file: the same lines, written when 64 kB are pending and at close', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foldercopy-unit-log-'));
    dirs.push(dir);
    const file = path.join(dir, 'run.jsonl');
    const log = EntryLog.open(file);
    for (let i = 0; i < 2000; i++) log.add({ path: `dir/file-${i}`, action: 'create', type: 'file', size: i });
    expect(fs.statSync(file).size).toBeGreaterThan(0);
    log.close();
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(2000);
    expect(JSON.parse(lines[1999]!)).toEqual({ path: 'dir/file-1999', action: 'create', type: 'file', size: 1999 });
  });
});
