import { describe, expect, it } from 'vitest';
import { layoutBar, type BarFields } from '../../src/cli/layout.js';

const FIELDS: BarFields = {
  percent: 48.3,
  listing: false,
  files: '24,112/50,000 files',
  bytes: '291 MB',
  rate: '212 MB/s',
  eta: 'ETA 1.4 s',
  file: '2019/06/IMG_0412.jpg',
};

/** The fields a line holds, each one whole, or a failed expectation. */
function wholeFields(line: string, fields: BarFields = FIELDS): string[] {
  const parts = line.split(' | ');
  const found: string[] = [];
  for (const [i, part] of parts.entries()) {
    const text = i === 0 ? part.replace(/^[█░]+ /, '') : part;
    if (/^[█░]+$/.test(text)) continue;
    const name = (Object.keys(fields) as Array<keyof BarFields>).find((key) => {
      if (key === 'percent') return text === `${Math.floor(fields.percent)}%` || text === 'listing…';
      if (key === 'file') return fields.file !== undefined && (text === fields.file || (text.startsWith('…') && fields.file.endsWith(text.slice(1))));
      return text === fields[key];
    });
    expect(name, `"${text}" in "${line}" is not a whole field`).toBeDefined();
    found.push(name!);
  }
  return found;
}

describe('layoutBar', () => {
  it.each([20, 30, 40, 50, 60, 70, 79, 80, 100, 119, 200])('at %i columns: fits, and every field shown is whole', (width) => {
    const line = layoutBar(width, FIELDS);
    expect([...line].length).toBeLessThanOrEqual(width);
    wholeFields(line);
  });

  it('drops the current file first, then bytes, then the rate; then shrinks the bar; percent, files and ETA stay', () => {
    expect(wholeFields(layoutBar(119, FIELDS))).toEqual(['percent', 'files', 'bytes', 'rate', 'eta', 'file']);
    // 79 columns (an 80-column terminal): no room for the file, nor for the bytes.
    const at79 = layoutBar(79, FIELDS);
    expect(wholeFields(at79)).toEqual(['percent', 'files', 'rate', 'eta']);
    expect(at79).toMatch(/^█+░+ 48% \| 24,112\/50,000 files \| 212 MB\/s \| ETA 1\.4 s$/);
    expect(at79.match(/[█░]/g)).toHaveLength(24);
    const at59 = layoutBar(59, FIELDS);
    expect(wholeFields(at59)).toEqual(['percent', 'files', 'eta']);
    expect(at59.match(/[█░]/g)!.length).toBeLessThan(24);
    expect(at59.length).toBe(59);
    const at39 = layoutBar(39, FIELDS);
    expect(wholeFields(at39)).toEqual(['percent', 'files', 'eta']);
    expect(at39).toBe('48% | 24,112/50,000 files | ETA 1.4 s');
  });

  it('shortens only the current file, at its start, and only when at least 12 columns are left for it', () => {
    const long = { ...FIELDS, file: `${'deep/'.repeat(30)}IMG_0412.jpg` };
    const line = layoutBar(119, long);
    expect(line.length).toBe(119);
    expect(line).toMatch(/ \| …[^|]*IMG_0412\.jpg$/);
    const tight = layoutBar(82 + 3 + 11, long);
    expect(wholeFields(tight, long)).toEqual(['percent', 'files', 'bytes', 'rate', 'eta']);
  });

  it('on a very narrow terminal drops the ETA, then the percent, whole; the file count goes last', () => {
    expect(layoutBar(30, FIELDS)).toBe('48% | 24,112/50,000 files');
    expect(layoutBar(20, FIELDS)).toBe('24,112/50,000 files');
    expect(layoutBar(10, FIELDS)).toBe('');
  });

  it('while listing: `listing…` and the lower bound, no percent claimed', () => {
    const listing = { ...FIELDS, percent: 0, listing: true, files: '10/≥1,000 files', eta: 'ETA --', file: '' };
    expect(layoutBar(99, listing)).toMatch(/^░{24} listing… \| 10\/≥1,000 files \| 291 MB \| 212 MB\/s \| ETA --$/);
  });

  it('a full bar at 100%', () => {
    expect(layoutBar(79, { ...FIELDS, percent: 100 })).toMatch(/^█{24} 100% \| /);
  });
});
