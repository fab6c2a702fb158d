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
  it('says yes until a window is measured, then what the last window of at least a span showed', () => {
    const read = samples({ idle: 0, total: 0 }, { idle: 50, total: 100 }, { idle: 60, total: 200 }, { idle: 160, total: 300 });
    const cores = new IdleCores(read);
    expect(cores.some(0)).toBe(true);
    // Within the first span: nothing measured yet, nothing read.
    expect(cores.some(50)).toBe(true);
    expect(read.calls).toBe(1);
    // Half the ticks idle: room.
    expect(cores.some(150)).toBe(true);
    // A tenth idle: no room, and the answer holds for the span.
    expect(cores.some(300)).toBe(false);
    expect(cores.some(350)).toBe(false);
    expect(read.calls).toBe(3);
    // All idle again.
    expect(cores.some(400)).toBe(true);
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
