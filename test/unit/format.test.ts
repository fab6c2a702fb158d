import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, formatDuration, formatRate } from '../../src/cli/format.js';

describe('formatCount', () => {
  it.each([
    [0, '0'],
    [7, '7'],
    [999, '999'],
    [1000, '1,000'],
    [12345, '12,345'],
    [999999, '999,999'],
    [1000000, '1,000,000'],
    [1234567890, '1,234,567,890'],
  ])('writes %d as %s', (value, text) => {
    expect(formatCount(value)).toBe(text);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1, '1 B'],
    [999, '999 B'],
    [1000, '1.00 kB'],
    [1500, '1.50 kB'],
    [9990, '9.99 kB'],
    [10_000, '10.0 kB'],
    [12_340, '12.3 kB'],
    [99_900, '99.9 kB'],
    [100_000, '100 kB'],
    [123_456, '123 kB'],
    [1_000_000, '1.00 MB'],
    [2_500_000, '2.50 MB'],
    [1e9, '1.00 GB'],
    [1e12, '1.00 TB'],
    [1e15, '1.00 PB'],
    [1e18, '1000 PB'],
    // Rounding decides the digits: never '1000 kB', '100.0 kB' or '10.00 kB'.
    [9_999, '10.0 kB'],
    [99_999, '100 kB'],
    [999_999, '1.00 MB'],
    [999_999_999, '1.00 GB'],
  ])('writes %d bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0.00 s'],
    [5, '0.01 s'],
    [994, '0.99 s'],
    [999, '1.0 s'],
    [1000, '1.0 s'],
    [1234, '1.2 s'],
    [9_949, '9.9 s'],
    [9_999, '10 s'],
    [10_000, '10 s'],
    [10_499, '10 s'],
    [10_500, '11 s'],
    [59_499, '59 s'],
    [59_500, '1 min 0 s'],
    [60_000, '1 min 0 s'],
    [61_000, '1 min 1 s'],
    [3_599_000, '59 min 59 s'],
    [3_600_000, '1 h 0 min'],
    [3_661_000, '1 h 1 min'],
    [90_000_000, '25 h 0 min'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('formatRate', () => {
  it.each([
    [0, '0 B/s'],
    [0.4, '0 B/s'],
    [999.4, '999 B/s'],
    [999.5, '1.00 kB/s'],
    [1_250_000, '1.25 MB/s'],
    [45_678_901.2, '45.7 MB/s'],
  ])('writes %d bytes a second as %s', (rate, text) => {
    expect(formatRate(rate)).toBe(text);
  });
});
