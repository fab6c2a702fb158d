import { describe, expect, it } from 'vitest';
import { IdleCores, type Sample } from '../../src/pool/idle-cores.js';

/** A reader that returns the given samples in turn, counting its calls. */
function samples(...list: (Omit<Sample, 'at'> | null)[]) {
  const reader = (at: number): Sample | null => {
    reader.calls++;
    const next = list.shift();
    return next ? { at, ...next } : null;
  };
  reader.calls = 0;
  return reader;
}

describe('IdleCores', () => {
  it('says yes until a window is measured, then one yes for each quarter of the cores\' time the last window had idle', () => {
    const read = samples({ idle: 0, total: 0 }, { idle: 60, total: 100 }, { idle: 70, total: 200 }, { idle: 170, total: 300 });
    const cores = new IdleCores(read);
    // Nothing measured yet: as many as are asked for, nothing read again within the span.
    expect([cores.some(0), cores.some(10), cores.some(50)]).toEqual([true, true, true]);
    expect(read.calls).toBe(1);
    // 60% idle: room for two, then no until the next window.
    expect([cores.some(150), cores.some(160), cores.some(170)]).toEqual([true, true, false]);
    // A tenth idle: none.
    expect(cores.some(300)).toBe(false);
    expect(cores.some(350)).toBe(false);
    // All idle: four.
    expect([400, 401, 402, 403, 404].map((now) => cores.some(now))).toEqual([true, true, true, true, false]);
    expect(read.calls).toBe(4);
  });

  it('says yes where the counters cannot be read, and stops reading', () => {
    const read = samples(null);
    const cores = new IdleCores(read);
    expect(cores.some(0)).toBe(true);
    expect(cores.some(1_000)).toBe(true);
    expect(read.calls).toBe(1);
  });

  it("reads this machine's counters by default", () => {
    const cores = new IdleCores();
    expect(cores.some(0)).toBe(true);
  });
});
