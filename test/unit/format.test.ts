import { describe, expect, it } from 'vitest';
import { displayText, formatBytes, formatCount, formatDuration, formatRate, wrapFields } from '../../src/cli/format.js';
import { pathText, rawFromBytes, rawFromString } from '../../src/shared/raw-path.js';

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

describe('displayText', () => {
  const shown = (bytes: number[] | string): string =>
    displayText(pathText(typeof bytes === 'string' ? rawFromString(bytes) : rawFromBytes(Buffer.from(bytes))));

  it('shows valid UTF-8 as it is', () => {
    expect(shown('dir/café/日本.txt')).toBe('dir/café/日本.txt');
    expect(shown('with space/\u{1F600}')).toBe('with space/\u{1F600}');
  });

  it('shows a byte that is not UTF-8 as \\xHH', () => {
    expect(shown([0x63, 0x61, 0x66, 0xe8])).toBe('caf\\xe8');
    expect(shown([0x61, 0xff, 0x80])).toBe('a\\xff\\x80');
  });

  it('escapes control characters so a path shows on one line', () => {
    expect(shown('a\nb')).toBe('a\\nb');
    expect(shown('a\rb')).toBe('a\\rb');
    expect(displayText('tab\there')).toBe('tab\\there');
    expect(displayText('\u0001\u001b[31m\u001f')).toBe('\\u0001\\u001b[31m\\u001f');
    // DEL and the C1 controls too (U+009B starts a terminal escape sequence like ESC [).
    expect(shown('a\u007fb\u009b31mc')).toBe('a\\u007fb\\u009b31mc');
    expect(shown('x\n\ny')).not.toMatch(/[\n\r]/);
  });

  it('doubles a backslash, so an escape and the same characters typed never look alike', () => {
    expect(shown('a\\nb')).toBe('a\\\\nb');
    expect(shown('c:\\x')).toBe('c:\\\\x');
  });

  it('shows other lone surrogates as \\uXXXX', () => {
    expect(displayText('a\ud800b\udc00')).toBe('a\\ud800b\\udc00');
  });

  it('never shows two different names the same', () => {
    const names: Array<number[] | string> = [
      [0x63, 0x61, 0x66, 0xe8],
      [0x63, 0x61, 0x66, 0xe9],
      'caf\u00e9',
      'caf\\xe8',
      'caf\\\\xe8',
      'a\nb',
      'a\\nb',
      'a\\\\nb',
      'a\\u000ab',
      [0x61, 0x5c, 0x78, 0x30, 0x61, 0x62],
      'a\tb',
      'a\\tb',
    ];
    const lines = names.map(shown);
    expect(new Set(lines).size).toBe(names.length);
    for (const line of lines) expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });
});

describe('wrapFields', () => {
  const summary = 'foldercopy: copied 6,000 files, 41 directories, 0 symlinks, 3.12 MB in 1.2 s (2.60 MB/s); 0 skipped, 0 failed';

  it('leaves a line that fits as it is', () => {
    expect(wrapFields(summary, 200)).toBe(summary);
  });

  it('breaks between fields, never in one, and indents what follows', () => {
    const wrapped = wrapFields(summary, 79);
    expect(wrapped).toBe('foldercopy: copied 6,000 files, 41 directories, 0 symlinks,\n  3.12 MB in 1.2 s (2.60 MB/s); 0 skipped, 0 failed');
    for (const row of wrapped.split('\n')) expect(row.length).toBeLessThanOrEqual(79);
  });
});
