import { describe, expect, it } from 'vitest';
import type { ErrorRecord } from '../../src/shared/errors.js';
import {
  ResultsEncoder,
  decodeResults,
  isFromWorker,
  isToWorker,
  type FilesDone,
  type JobResult,
  type Outcome,
} from '../../src/shared/protocol.js';

const ALL_OUTCOMES: Outcome[] = ['created', 'overwritten', 'skipped', 'failed', 'otherNames', 'large', 'largeForked', 'batchFull'];

const denied: ErrorRecord = { code: 'EACCES', message: 'permission denied', operation: 'read', path: 'src/a.txt' };
const gone: ErrorRecord = { code: 'ENOENT', message: 'no such file or directory', operation: 'stat', path: 'src/b.txt' };

function message(fields: Partial<FilesDone>): FilesDone {
  return { type: 'filesDone', batchId: 1, count: 0, outcomes: '', sizes: [], failures: [], inodes: [], ...fields };
}

describe('ResultsEncoder and decodeResults', () => {
  it('round-trips every outcome with its size, in order', () => {
    const encoder = new ResultsEncoder(false);
    const results: JobResult[] = ALL_OUTCOMES.map((outcome, i) => ({ outcome, size: i * 1000 }));
    for (const result of results) encoder.add(result);
    const sent = encoder.take(7);
    expect(sent.count).toBe(8);
    expect(sent.outcomes).toBe('cosfnlLb');
    expect(sent.sizes).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000]);
    expect(decodeResults(sent)).toEqual(results);
  });

  it('encodes one character per outcome code', () => {
    for (const [outcome, code] of [
      ['created', 'c'],
      ['overwritten', 'o'],
      ['skipped', 's'],
      ['failed', 'f'],
      ['otherNames', 'n'],
      ['large', 'l'],
      ['largeForked', 'L'],
      ['batchFull', 'b'],
    ] as const) {
      const encoder = new ResultsEncoder(false);
      encoder.add({ outcome, size: 0 });
      const sent = encoder.take(1);
      expect(sent.outcomes).toBe(code);
      expect(decodeResults(sent)).toEqual([{ outcome, size: 0 }]);
    }
  });

  it('carries an error record only on the failures, at their index', () => {
    const encoder = new ResultsEncoder(false);
    encoder.add({ outcome: 'created', size: 10 });
    encoder.add({ outcome: 'failed', size: 0, error: denied });
    encoder.add({ outcome: 'skipped', size: 20 });
    encoder.add({ outcome: 'failed', size: 5, error: gone });
    const sent = encoder.take(3);
    expect(sent.failures).toEqual([
      { index: 1, error: denied },
      { index: 3, error: gone },
    ]);
    expect(decodeResults(sent)).toEqual([
      { outcome: 'created', size: 10 },
      { outcome: 'failed', size: 0, error: denied },
      { outcome: 'skipped', size: 20 },
      { outcome: 'failed', size: 5, error: gone },
    ]);
  });

  it('carries the inode of a file handed back for its other names', () => {
    const encoder = new ResultsEncoder(false);
    encoder.add({ outcome: 'created', size: 1 });
    encoder.add({ outcome: 'otherNames', size: 42, inode: '2049:123456' });
    const sent = encoder.take(1);
    expect(sent.inodes).toEqual([{ index: 1, inode: '2049:123456' }]);
    expect(decodeResults(sent)).toEqual([
      { outcome: 'created', size: 1 },
      { outcome: 'otherNames', size: 42, inode: '2049:123456' },
    ]);
  });

  it('sends digests with withDigests, with an empty string for a job without one', () => {
    const encoder = new ResultsEncoder(true);
    const hash = 'a'.repeat(64);
    encoder.add({ outcome: 'created', size: 3, digest: hash });
    encoder.add({ outcome: 'created', size: 0 });
    const sent = encoder.take(2);
    expect(sent.digests).toEqual([hash, '']);
    expect(decodeResults(sent)).toEqual([
      { outcome: 'created', size: 3, digest: hash },
      { outcome: 'created', size: 0 },
    ]);
  });

  it('sends how each job was verified with --verify, one character a job, and nothing without it', () => {
    const encoder = new ResultsEncoder(false, true);
    encoder.add({ outcome: 'created', size: 3, verified: 'disk' });
    encoder.add({ outcome: 'skipped', size: 4, verified: 'cache' });
    encoder.add({ outcome: 'created', size: 0 });
    const sent = encoder.take(2);
    expect(sent.verified).toBe('dc-');
    expect(decodeResults(sent)).toEqual([
      { outcome: 'created', size: 3, verified: 'disk' },
      { outcome: 'skipped', size: 4, verified: 'cache' },
      { outcome: 'created', size: 0 },
    ]);
    const without = new ResultsEncoder(false);
    without.add({ outcome: 'created', size: 3, verified: 'disk' });
    expect(without.take(3).verified).toBeUndefined();
  });

  it('carries a verification by record and the hash state of a job, at its index, and leaves states out when none has one', () => {
    const encoder = new ResultsEncoder(true, true);
    const state = { source: '1:2:3:4:5', destination: '1:9:3:4:6', readBack: true as const };
    encoder.add({ outcome: 'skipped', size: 3, digest: 'a'.repeat(64) });
    encoder.add({ outcome: 'skipped', size: 3, digest: 'b'.repeat(64), verified: 'record', state });
    const sent = encoder.take(1);
    expect(sent.verified).toBe('-r');
    expect(sent.states).toEqual([{ index: 1, state }]);
    expect(decodeResults(sent)[1]).toEqual({ outcome: 'skipped', size: 3, digest: 'b'.repeat(64), verified: 'record', state });
    encoder.add({ outcome: 'created', size: 1 });
    expect('states' in encoder.take(2)).toBe(false);
  });

  it('leaves digests out of the message and the results without withDigests', () => {
    const encoder = new ResultsEncoder(false);
    encoder.add({ outcome: 'created', size: 3, digest: 'b'.repeat(64) });
    const sent = encoder.take(2);
    expect('digests' in sent).toBe(false);
    expect(decodeResults(sent)).toEqual([{ outcome: 'created', size: 3 }]);
  });

  it('counts pending results and take() puts them in a message with the batch id', () => {
    const encoder = new ResultsEncoder(false);
    expect(encoder.pending).toBe(0);
    encoder.add({ outcome: 'created', size: 1 });
    encoder.add({ outcome: 'skipped', size: 2 });
    expect(encoder.pending).toBe(2);
    const sent = encoder.take(99);
    expect(sent).toEqual({
      type: 'filesDone',
      batchId: 99,
      count: 2,
      outcomes: 'cs',
      sizes: [1, 2],
      failures: [],
      inodes: [],
    });
    expect(encoder.pending).toBe(0);
  });

  it('starts afresh after take(): the next message indexes its rare fields from 0', () => {
    const encoder = new ResultsEncoder(true);
    encoder.add({ outcome: 'created', size: 1, digest: 'c1' });
    encoder.add({ outcome: 'created', size: 2, digest: 'c2' });
    const first = encoder.take(1);
    encoder.add({ outcome: 'failed', size: 0, error: denied });
    encoder.add({ outcome: 'otherNames', size: 8, inode: '1:2' });
    const second = encoder.take(1);
    expect(second.count).toBe(2);
    expect(second.outcomes).toBe('fn');
    expect(second.sizes).toEqual([0, 8]);
    expect(second.failures).toEqual([{ index: 0, error: denied }]);
    expect(second.inodes).toEqual([{ index: 1, inode: '1:2' }]);
    expect(second.digests).toEqual(['', '']);
    // The first message is not changed by later results.
    expect(first.outcomes).toBe('cc');
    expect(first.sizes).toEqual([1, 2]);
    expect(first.failures).toEqual([]);
    expect(first.digests).toEqual(['c1', 'c2']);
  });

  it('carries the metadata a job lost, at its index, and leaves the field out when none lost any', () => {
    const encoder = new ResultsEncoder(false);
    encoder.add({ outcome: 'created', size: 10 });
    encoder.add({ outcome: 'created', size: 3, lost: 1 });
    encoder.add({ outcome: 'skipped', size: 20, lost: 2 | 4 });
    const sent = encoder.take(4);
    expect(sent.lost).toEqual([
      { index: 1, lost: 1 },
      { index: 2, lost: 6 },
    ]);
    expect(decodeResults(sent)).toEqual([
      { outcome: 'created', size: 10 },
      { outcome: 'created', size: 3, lost: 1 },
      { outcome: 'skipped', size: 20, lost: 6 },
    ]);
    encoder.add({ outcome: 'created', size: 1 });
    const next = encoder.take(4);
    expect(next).not.toHaveProperty('lost');
    expect(decodeResults(next)).toEqual([{ outcome: 'created', size: 1 }]);
    // A message round-trips through the IPC channel's JSON too.
    expect(decodeResults(JSON.parse(JSON.stringify(sent)) as FilesDone)).toEqual(decodeResults(sent));
  });

  it('takes an empty message when nothing was added', () => {
    const sent = new ResultsEncoder(false).take(3);
    expect(sent).toEqual({ type: 'filesDone', batchId: 3, count: 0, outcomes: '', sizes: [], failures: [], inodes: [] });
    expect(decodeResults(sent)).toEqual([]);
  });
});

describe('decodeResults on a message that does not decode', () => {
  it('throws a TypeError on an unknown outcome code', () => {
    expect(() => decodeResults(message({ count: 2, outcomes: 'cx', sizes: [0, 0] }))).toThrow(
      new TypeError('unknown outcome code "x"'),
    );
  });

  it('throws a TypeError when the count disagrees with the outcomes', () => {
    expect(() => decodeResults(message({ count: 3, outcomes: 'cc', sizes: [0, 0] }))).toThrow(
      new TypeError('3 results, but 2 outcomes'),
    );
    expect(() => decodeResults(message({ count: 1, outcomes: 'cc', sizes: [0, 0] }))).toThrow(TypeError);
  });

  it('throws a TypeError on a failure index out of range', () => {
    const bad = message({ count: 2, outcomes: 'cf', sizes: [0, 0], failures: [{ index: 2, error: denied }] });
    expect(() => decodeResults(bad)).toThrow(new TypeError('no result at index 2 of 2'));
  });

  it('throws a TypeError on a lost-metadata index out of range', () => {
    expect(() => decodeResults(message({ count: 1, outcomes: 'c', sizes: [0], lost: [{ index: 3, lost: 1 }] }))).toThrow(TypeError);
  });

  it('throws a TypeError on an inode index out of range', () => {
    const bad = message({ count: 1, outcomes: 'n', sizes: [0], inodes: [{ index: -1, inode: '1:1' }] });
    expect(() => decodeResults(bad)).toThrow(TypeError);
  });
});

describe('message guards', () => {
  it('isFromWorker accepts the three worker message types only', () => {
    expect(isFromWorker({ type: 'ready' })).toBe(true);
    expect(isFromWorker(message({}))).toBe(true);
    expect(isFromWorker({ type: 'fileProgress', batchId: 1, bytes: 5 })).toBe(true);
    expect(isFromWorker({ type: 'copy' })).toBe(false);
    expect(isFromWorker({ type: 'other' })).toBe(false);
    expect(isFromWorker({})).toBe(false);
    expect(isFromWorker(null)).toBe(false);
    expect(isFromWorker(undefined)).toBe(false);
    expect(isFromWorker('ready')).toBe(false);
    expect(isFromWorker(42)).toBe(false);
  });

  it('isToWorker accepts a copy batch only', () => {
    expect(isToWorker({ type: 'copy', batchId: 1, jobs: [] })).toBe(true);
    expect(isToWorker({ type: 'ready' })).toBe(false);
    expect(isToWorker(message({}))).toBe(false);
    expect(isToWorker({})).toBe(false);
    expect(isToWorker(null)).toBe(false);
    expect(isToWorker('copy')).toBe(false);
  });
});
