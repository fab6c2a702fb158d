import { describe, expect, it } from 'vitest';
import { BatchQueue } from '../../src/pool/batch-queue.js';
import type { Job } from '../../src/shared/jobs.js';

const jobs = (...paths: string[]): Job[] => paths.map((path) => ({ kind: 'file', path }));

describe('BatchQueue', () => {
  it('cuts the front batch to the size asked for, without touching the submitted array, and counts the jobs left', () => {
    const queue = new BatchQueue();
    const submitted = jobs('a', 'b', 'c');
    queue.add(submitted);
    queue.add(jobs('d'));
    expect(queue.jobs).toBe(4);
    expect(queue.take(2).jobs).toEqual(jobs('a', 'b'));
    expect(submitted).toEqual(jobs('a', 'b', 'c'));
    expect(queue.jobs).toBe(2);
    expect(queue.take(5).jobs).toEqual(jobs('c'));
    expect(queue.take(5).jobs).toEqual(jobs('d'));
    expect(queue.isEmpty).toBe(true);
    expect(queue.jobs).toBe(0);
  });

  it('puts retries, each alone, then resent batches ahead of the queue; a retry is never merged or cut', () => {
    const queue = new BatchQueue();
    queue.add(jobs('later'));
    queue.requeue(jobs('x', 'y'), [{ id: 99, jobs: jobs('c', 'd'), confirmed: 0, retry: false }]);
    expect(queue.jobs).toBe(5);
    expect(queue.take(256)).toMatchObject({ jobs: jobs('x'), retry: true });
    expect(queue.take(256)).toMatchObject({ jobs: jobs('y'), retry: true });
    expect(queue.take(256)).toMatchObject({ id: 99, jobs: jobs('c', 'd') });
    expect(queue.take(256).jobs).toEqual(jobs('later'));
  });

  it('puts a large file ahead of the small files queued, behind retries and the large files before it', () => {
    const queue = new BatchQueue();
    queue.add(jobs('a', 'b'));
    queue.requeue(jobs('retried'), []);
    queue.add([{ kind: 'file', path: 'big1', large: true }]);
    queue.add(jobs('c'));
    queue.add([{ kind: 'file', path: 'big2', large: true, forked: true }]);
    expect(queue.jobs).toBe(6);
    const order = [];
    while (!queue.isEmpty) order.push(...queue.take(256).jobs.map((job) => job.path));
    expect(order).toEqual(['retried', 'big1', 'big2', 'a', 'b', 'c']);
    expect(queue.jobs).toBe(0);
  });

  it("knows a large file's batch anywhere, one only a forked worker may copy at the front or anywhere, and forgets everything on clear", () => {
    const queue = new BatchQueue();
    queue.add(jobs('small'));
    queue.add([{ kind: 'file', path: 'big', large: true }]);
    expect(queue.holdsLargeFile).toBe(true);
    expect(queue.forkedFiles).toBe(0);
    queue.add(jobs('small again'));
    queue.add([{ kind: 'file', path: 'sparse', large: true, forked: true }]);
    queue.add([{ kind: 'file', path: 'other', large: true, forked: true }]);
    expect(queue.forkedFiles).toBe(2);
    expect(queue.forkedFirst).toBe(false);
    queue.take(256);
    expect(queue.forkedFirst).toBe(true);
    queue.clear();
    expect(queue.isEmpty).toBe(true);
    expect(queue.jobs).toBe(0);
    expect(queue.holdsLargeFile).toBe(false);
    expect(queue.forkedFiles).toBe(0);
  });
  it('takes a file found large out of its batch and puts it ahead of the small files, alone; nothing when it is not queued', () => {
    const queue = new BatchQueue();
    const submitted = jobs('a', 'big', 'b');
    queue.add(submitted);
    queue.add(jobs('c'));
    queue.add([{ kind: 'file', path: 'known', large: true }]);
    queue.promote('big');
    queue.promote('sent or not listed yet');
    expect(queue.jobs).toBe(5);
    expect(submitted).toEqual(jobs('a', 'big', 'b'));
    expect(queue.take(256).jobs).toEqual([{ kind: 'file', path: 'known', large: true }]);
    expect(queue.take(256).jobs).toEqual(jobs('big'));
    expect(queue.take(256).jobs).toEqual(jobs('a', 'b'));
    queue.promote('c');
    expect(queue.take(256).jobs).toEqual(jobs('c'));
    expect(queue.isEmpty).toBe(true);
    expect(queue.jobs).toBe(0);
  });
});
