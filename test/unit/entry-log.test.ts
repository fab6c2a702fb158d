import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { EntryLog } from '../../src/run/entry-log.js';
import { pathBytes } from '../../src/shared/raw-path.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function collect(stream: PassThrough): () => string {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString('utf8');
}

describe('EntryLog', () => {
  it('on a stream (--log -): JSON lines, buffered until close, and the stream left open', () => {
    const stream = new PassThrough();
    const written = collect(stream);
    const log = EntryLog.toStream(stream);
    log.add({ path: 'caf\udce8', action: 'create', type: 'file', size: 1 });
    log.add({ path: 'a\nb', action: 'skip', type: 'file', reason: 'same size and mtime' });
    expect(written()).toBe('');
    log.close();
    log.close();
    expect(stream.writableEnded).toBe(false);
    expect(written()).toBe(
      '{"path":"caf\\udce8","action":"create","type":"file","size":1}\n' +
        '{"path":"a\\nb","action":"skip","type":"file","reason":"same size and mtime"}\n',
    );
    const paths = written()
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { path: string }).path);
    expect(paths.map((p) => pathBytes(p))).toEqual([Buffer.from('caf\xe8', 'latin1'), Buffer.from('a\nb')]);
  });

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
