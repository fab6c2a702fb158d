import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StdoutLog } from '../../src/cli/stdout.js';
import { pathBytes } from '../../src/shared/raw-path.js';

function collect(stream: PassThrough): () => string {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString('utf8');
}

describe('StdoutLog', () => {
  it('on a stream (--log -): JSON lines, buffered until close, and the stream left open', () => {
    const stream = new PassThrough();
    const written = collect(stream);
    const log = new StdoutLog(stream);
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

});
