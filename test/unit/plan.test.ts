import { describe, expect, it } from 'vitest';
import type { FileJob, Job } from '../../src/shared/jobs.js';
import { Batcher } from '../../src/run/batcher.js';
import { HardLinks } from '../../src/run/plan.js';

const file = (path: string, extra: Partial<FileJob> = {}): FileJob => ({ kind: 'file', path, ...extra });

describe('HardLinks', () => {
  it('copies the first name of an inode, marked firstName', () => {
    const links = new HardLinks();
    expect(links.add(file('a'), '1:10')).toEqual({ kind: 'file', path: 'a', firstName: true });
  });

  it('keeps the first name’s mayExist', () => {
    const links = new HardLinks();
    expect(links.add(file('a', { mayExist: true }), '1:10')).toEqual({ kind: 'file', path: 'a', mayExist: true, firstName: true });
  });

  it('makes later names wait, then links them to the first name’s copy once it succeeds', () => {
    const links = new HardLinks();
    const first = links.add(file('a'), '1:10')!;
    expect(links.add(file('b', { mayExist: true }), '1:10')).toBeNull();
    expect(links.add(file('c'), '1:10')).toBeNull();
    expect(links.settle(first, true)).toEqual([
      { kind: 'hardlink', path: 'b', target: 'a', mayExist: true },
      { kind: 'hardlink', path: 'c', target: 'a' },
    ]);
  });

  it('does not give a link mayExist when the name did not have it', () => {
    const links = new HardLinks();
    const first = links.add(file('a'), '1:10')!;
    links.add(file('b'), '1:10');
    const [link] = links.settle(first, true);
    expect(link).toEqual({ kind: 'hardlink', path: 'b', target: 'a' });
    expect(link && 'mayExist' in link).toBe(false);
  });

  it('links a name added after the copy settled at once', () => {
    const links = new HardLinks();
    const first = links.add(file('a'), '1:10')!;
    expect(links.settle(first, true)).toEqual([]);
    expect(links.add(file('late', { mayExist: true }), '1:10')).toEqual({ kind: 'hardlink', path: 'late', target: 'a', mayExist: true });
  });

  it('keeps groups of different inodes apart', () => {
    const links = new HardLinks();
    const a = links.add(file('a'), '1:10')!;
    const x = links.add(file('x'), '1:20')!;
    expect(x).toEqual({ kind: 'file', path: 'x', firstName: true });
    links.add(file('b'), '1:10');
    links.add(file('y'), '1:20');
    expect(links.settle(x, true)).toEqual([{ kind: 'hardlink', path: 'y', target: 'x' }]);
    expect(links.settle(a, true)).toEqual([{ kind: 'hardlink', path: 'b', target: 'a' }]);
  });

  it('copies the next waiting name in place of a first name whose copy failed, and links the rest to it', () => {
    const links = new HardLinks();
    const first = links.add(file('a'), '1:10')!;
    links.add(file('b', { mayExist: true }), '1:10');
    links.add(file('c'), '1:10');
    const replacement = links.settle(first, false);
    expect(replacement).toEqual([{ kind: 'file', path: 'b', mayExist: true, firstName: true }]);
    expect(links.settle(replacement[0]!, true)).toEqual([{ kind: 'hardlink', path: 'c', target: 'b' }]);
    expect(links.add(file('d'), '1:10')).toEqual({ kind: 'hardlink', path: 'd', target: 'b' });
  });

  it('releases nothing when every name of a group failed', () => {
    const links = new HardLinks();
    const first = links.add(file('a'), '1:10')!;
    links.add(file('b'), '1:10');
    const [second] = links.settle(first, false);
    expect(second).toEqual({ kind: 'file', path: 'b', firstName: true });
    const released = links.settle(second!, false);
    expect(released).toEqual([]);
    expect(Object.isFrozen(released)).toBe(true);
  });

  it('answers settle() of unrelated jobs with an empty, frozen array', () => {
    const links = new HardLinks();
    const nothingCopying = links.settle(file('z'), true);
    expect(nothingCopying).toEqual([]);
    expect(Object.isFrozen(nothingCopying)).toBe(true);

    links.add(file('a'), '1:10');
    links.add(file('b'), '1:10');
    for (const job of [file('other'), { kind: 'symlink', path: 'a' } as Job, { kind: 'hardlink', path: 'a', target: 'q' } as Job]) {
      const released = links.settle(job, true);
      expect(released).toEqual([]);
      expect(Object.isFrozen(released)).toBe(true);
    }
    // The unrelated settles did not release the waiting name.
    expect(links.settle(file('a', { firstName: true }), true)).toEqual([{ kind: 'hardlink', path: 'b', target: 'a' }]);
  });

  it('releases a waiting name once only', () => {
    const links = new HardLinks();
    const first = links.add(file('a'), '1:10')!;
    links.add(file('b'), '1:10');
    expect(links.settle(first, true)).toHaveLength(1);
    expect(links.settle(first, true)).toEqual([]);
  });
});

describe('Batcher', () => {
  function recorder() {
    const sent: Job[][] = [];
    return { sent, batcher: new Batcher((jobs) => sent.push(jobs)) };
  }

  it('sends a batch as soon as it holds 256 jobs', () => {
    const { sent, batcher } = recorder();
    for (let i = 0; i < 255; i++) batcher.add(file(`f${i}`));
    expect(sent).toHaveLength(0);
    batcher.add(file('f255'));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toHaveLength(256);
    expect(sent[0]![0]).toEqual({ kind: 'file', path: 'f0' });
    expect(sent[0]![255]).toEqual({ kind: 'file', path: 'f255' });
  });

  it('flush sends the rest, in order', () => {
    const { sent, batcher } = recorder();
    for (let i = 0; i < 300; i++) batcher.add(file(`f${i}`));
    batcher.flush();
    expect(sent.map((batch) => batch.length)).toEqual([256, 44]);
    expect(sent[1]![0]).toEqual({ kind: 'file', path: 'f256' });
    expect(sent[1]![43]).toEqual({ kind: 'file', path: 'f299' });
  });

  it('sends the jobs it holds once they have waited 20 ms of listings, and not before', () => {
    const { sent, batcher } = recorder();
    batcher.held(0);
    batcher.add(file('a'));
    batcher.held(100);
    batcher.add(file('b'));
    batcher.held(119);
    expect(sent).toEqual([]);
    batcher.held(120);
    expect(sent).toEqual([[file('a'), file('b')]]);
    // The clock starts again with the next job held.
    batcher.add(file('c'));
    batcher.held(130);
    batcher.held(149);
    expect(sent).toHaveLength(1);
    batcher.held(150);
    expect(sent[1]).toEqual([file('c')]);
  });

  it('flush with nothing pending sends nothing', () => {
    const { sent, batcher } = recorder();
    batcher.flush();
    expect(sent).toEqual([]);
    for (let i = 0; i < 256; i++) batcher.add(file(`f${i}`));
    batcher.flush();
    expect(sent).toHaveLength(1);
  });

  it('sends a large file alone at once without disturbing the pending batch', () => {
    const { sent, batcher } = recorder();
    batcher.add(file('a'));
    batcher.add({ kind: 'symlink', path: 'b' });
    const large = file('big', { large: true });
    batcher.add(large);
    expect(sent).toEqual([[large]]);
    batcher.add(file('c'));
    batcher.flush();
    expect(sent).toEqual([[large], [{ kind: 'file', path: 'a' }, { kind: 'symlink', path: 'b' }, { kind: 'file', path: 'c' }]]);
  });

  it('does not count large files towards the 256 of a batch', () => {
    const { sent, batcher } = recorder();
    for (let i = 0; i < 255; i++) batcher.add(file(`f${i}`));
    batcher.add(file('big', { large: true }));
    expect(sent.map((batch) => batch.length)).toEqual([1]);
    batcher.add(file('f255'));
    expect(sent.map((batch) => batch.length)).toEqual([1, 256]);
  });
});
