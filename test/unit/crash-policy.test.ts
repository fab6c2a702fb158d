import { describe, expect, it } from 'vitest';
import { judgeExit, type PoolFacts, type WorkerExit } from '../../src/pool/crash-policy.js';
import type { Batch } from '../../src/pool/worker-process.js';
import type { Job } from '../../src/shared/jobs.js';

const job = (path: string): Job => ({ kind: 'file', path });
const batch = (id: number, paths: string[], confirmed = 0, retry = false): Batch => ({ id, jobs: paths.map(job), confirmed, retry });

function exit(overrides: Partial<WorkerExit> = {}): WorkerExit {
  return { code: null, signal: 'SIGKILL', before: 'ready', inFlight: [], lastWords: '', output: '', ...overrides };
}

function pool(overrides: Partial<PoolFacts> = {}): PoolFacts {
  return { open: true, someWorkerWasReady: true, crashesInARow: 0, source: '/src', workerPath: '/dist/worker.js', ...overrides };
}

describe('judgeExit', () => {
  it('takes an exit the pool asked for, or one while it ends anyway, as expected', () => {
    expect(judgeExit(exit({ before: 'stopping', inFlight: [batch(1, ['a'])] }), pool())).toEqual({ kind: 'expected' });
    expect(judgeExit(exit({ inFlight: [batch(1, ['a'])] }), pool({ open: false }))).toEqual({ kind: 'expected' });
  });

  it('retries each unconfirmed job of the started batch alone, and sends the batches not started again whole', () => {
    const second = batch(2, ['c', 'd']);
    const verdict = judgeExit(exit({ inFlight: [batch(1, ['a', 'b', 'x', 'y'], 2), second] }), pool({ crashesInARow: 3 }));
    expect(verdict).toEqual({ kind: 'crashed', crashesInARow: 4, failed: [], retries: [job('x'), job('y')], resent: [second], stop: null });
  });

  it('fails a job that killed a worker on its retry, naming how the worker died and what it said', () => {
    const verdict = judgeExit(exit({ code: 3, signal: null, lastWords: 'Error: boom', inFlight: [batch(7, ['sub/x'], 0, true)] }), pool());
    expect(verdict).toMatchObject({ kind: 'crashed', retries: [], resent: [] });
    if (verdict.kind !== 'crashed') throw new Error('not a crash');
    expect(verdict.failed).toEqual([
      { job: job('sub/x'), error: { code: 'WORKER_CRASHED', message: 'the worker copying it exited with code 3 (Error: boom), twice', operation: 'worker', path: '/src/sub/x' } },
    ]);
  });

  it('says the install is broken when a worker exits on its own before any was ever ready', () => {
    const verdict = judgeExit(exit({ code: 1, signal: null, before: 'starting', output: 'SyntaxError: nope' }), pool({ someWorkerWasReady: false }));
    expect(verdict).toEqual({
      kind: 'cannotStart',
      error: { code: 'WORKER_START', message: 'a worker process could not start: it exited with code 1\nSyntaxError: nope', operation: 'worker', path: '/dist/worker.js' },
    });
    // A failed spawn has neither code nor signal.
    expect(judgeExit(exit({ code: null, signal: null, before: 'starting' }), pool({ someWorkerWasReady: false }))).toMatchObject({
      error: { message: 'a worker process could not start: it could not be started' },
    });
  });

  it('takes a worker killed while starting, or one starting after another was ready, as a crash', () => {
    expect(judgeExit(exit({ signal: 'SIGKILL', before: 'starting' }), pool({ someWorkerWasReady: false })).kind).toBe('crashed');
    expect(judgeExit(exit({ code: 1, signal: null, before: 'starting' }), pool()).kind).toBe('crashed');
  });

  it('stops the run on the ninth crash in a row, after what that crash decides', () => {
    expect(judgeExit(exit(), pool({ crashesInARow: 7 }))).toMatchObject({ crashesInARow: 8, stop: null });
    const verdict = judgeExit(exit({ lastWords: 'out of memory', inFlight: [batch(1, ['a'])] }), pool({ crashesInARow: 8 }));
    expect(verdict).toMatchObject({
      kind: 'crashed',
      crashesInARow: 9,
      retries: [job('a')],
      stop: { code: 'WORKER_CRASHED', message: 'worker processes keep dying (the last one was killed by SIGKILL (out of memory)); stopping', operation: 'worker', path: '/src' },
    });
  });
});
