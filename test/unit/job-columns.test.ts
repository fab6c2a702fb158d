import { describe, expect, it } from 'vitest';
import { batchFromWire, batchToWire } from '../../src/shared/job-columns.js';
import type { Job, WorkerSettings } from '../../src/shared/jobs.js';
import type { CopyBatch } from '../../src/shared/protocol.js';

const settings = { overwrite: 'changed', dryRun: false } as unknown as WorkerSettings;

function batch(jobs: Job[]): CopyBatch {
  return { type: 'copy', batchId: 3, source: 'src', destination: 'dst', cwd: '/w', settings, jobs };
}

/** What a forked worker gets: the batch through JSON, as Node's IPC channel carries it. */
function throughChannel(jobs: Job[]): CopyBatch {
  return batchFromWire(JSON.parse(JSON.stringify(batchToWire(batch(jobs)))));
}

describe('a batch on the wire (job columns)', () => {
  it('gives back every kind of job with every flag, the rare fields at their place', () => {
    const recorded = { hash: 'ab'.repeat(32), source: '1:2:3:4:5', destination: '6:7:8:9:10', readBack: true as const };
    const jobs: Job[] = [
      { kind: 'file', path: 'a/b.txt' },
      { kind: 'file', path: 'a/c.txt', mayExist: true, recorded },
      { kind: 'symlink', path: 'link' },
      { kind: 'symlink', path: 'link2', mayExist: true },
      { kind: 'hardlink', path: 'second', target: 'first' },
      { kind: 'file', path: 'big', mayExist: true, firstName: true, large: true, forked: true },
      { kind: 'hardlink', path: 'third', target: 'a/b.txt', mayExist: true },
      { kind: 'file', path: 'first', firstName: true },
    ];
    expect(throughChannel(jobs)).toEqual(batch(jobs));
  });

  it('keeps raw names byte for byte: line breaks as stored, bytes beyond ASCII, an empty path (a single file)', () => {
    const jobs: Job[] = [
      { kind: 'file', path: 'dir/new\uE00Aline\uE00Dreturn' },
      { kind: 'file', path: '\xe9t\xe9/\xff\x80 \\ "quoted"' },
      { kind: 'file', path: '' },
    ];
    expect(throughChannel(jobs).jobs).toEqual(jobs);
    expect(throughChannel([{ kind: 'file', path: '', mayExist: true }]).jobs).toEqual([{ kind: 'file', path: '', mayExist: true }]);
    expect(throughChannel([]).jobs).toEqual([]);
  });

  it('is a few strings, not an object per job', () => {
    const jobs: Job[] = Array.from({ length: 256 }, (_, i) => ({ kind: 'file', path: `d${i % 10}/e${i}/f${i}`, mayExist: true }));
    const wire = JSON.stringify(batchToWire(batch(jobs)));
    expect(wire.length).toBeLessThan(JSON.stringify(batch(jobs)).length / 2);
    expect(wire).not.toContain('"kind"');
  });

  it('refuses columns that do not agree, and unknown kinds', () => {
    const wire = batchToWire(batch([{ kind: 'file', path: 'a' }, { kind: 'file', path: 'b' }]));
    expect(() => batchFromWire({ ...wire, jobs: { ...wire.jobs, paths: 'a' } })).toThrow(/2 jobs, but 2 flags and 1 paths/);
    expect(() => batchFromWire({ ...wire, jobs: { ...wire.jobs, kinds: 'fx' } })).toThrow(/unknown job kind "x"/);
    const link = batchToWire(batch([{ kind: 'hardlink', path: 'b', target: 'a' }]));
    expect(() => batchFromWire({ ...link, jobs: { ...link.jobs, targets: [] } })).toThrow(/no target/);
    expect(() => batchFromWire({ ...link, jobs: { ...link.jobs, recorded: [{ index: 0, recorded: { hash: '', source: '' } }] } })).toThrow(/no file/);
  });
});
