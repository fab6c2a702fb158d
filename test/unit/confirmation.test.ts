import { describe, expect, it } from 'vitest';
import { readConfirmation } from '../../src/pool/confirmation.js';
import type { Batch } from '../../src/pool/worker-process.js';
import { ResultsEncoder, type FilesDone, type JobResult } from '../../src/shared/protocol.js';

const created: JobResult = { outcome: 'created', size: 3 };

function confirmation(batchId: number, results: JobResult[]): FilesDone {
  const encoder = new ResultsEncoder(false);
  for (const result of results) encoder.add(result);
  return encoder.take(batchId);
}

const batch = (confirmed: number): Batch => ({ id: 4, jobs: [{ kind: 'file', path: 'a' }, { kind: 'file', path: 'b' }], confirmed, retry: false });

describe('readConfirmation', () => {
  it('gives the results of a confirmation of the first batch in flight', () => {
    expect(readConfirmation(10, batch(1), confirmation(4, [created]))).toEqual([created]);
  });

  it('names what breaks the protocol: another batch, no batch, results that do not decode, more jobs than are left', () => {
    expect(readConfirmation(10, batch(0), confirmation(5, [created]))).toBe('worker 10 confirmed batch 5 out of order');
    expect(readConfirmation(10, undefined, confirmation(4, []))).toBe('worker 10 confirmed batch 4 out of order');
    expect(readConfirmation(10, batch(0), { ...confirmation(4, [created]), outcomes: '?' })).toBe('worker 10 sent results that do not decode: unknown outcome code "?"');
    expect(readConfirmation(10, batch(1), confirmation(4, [created, created]))).toBe('worker 10 confirmed more jobs than batch 4 holds');
  });
});
