import { describe, expect, it } from 'vitest';
import {
  isOurName,
  isTempName,
  lockAsidePathFor,
  lockPathFor,
  manifestTempPathFor,
  parseTempName,
  probeNameFor,
  stagingPathFor,
  stagingPidOf,
  tempPathFor,
  writingPathFor,
} from '../../src/shared/names-on-disk.js';

describe('temporary names', () => {
  it('keeps the directory, prefixes a dot and appends .<pid>.foldercopy-part', () => {
    expect(tempPathFor('/dst/dir/file.txt', 4242)).toBe('/dst/dir/.file.txt.4242.foldercopy-part');
    expect(tempPathFor('top', 7)).toBe('.top.7.foldercopy-part');
    expect(tempPathFor('a/.hidden', 1)).toBe('a/..hidden.1.foldercopy-part');
  });

  it('cuts the name part to 200 characters and keeps the whole directory', () => {
    const dir = `/${'d'.repeat(300)}`;
    const name = 'n'.repeat(250);
    const temp = tempPathFor(`${dir}/${name}`, 99);
    expect(temp).toBe(`${dir}/.${'n'.repeat(200)}.99.foldercopy-part`);
    expect(tempPathFor(`x/${'m'.repeat(200)}`, 5)).toBe(`x/.${'m'.repeat(200)}.5.foldercopy-part`);
  });

  it('writes at the final name when staged, under the temporary name otherwise', () => {
    expect(writingPathFor('/dst/a', 3, true)).toBe('/dst/a');
    expect(writingPathFor('/dst/a', 3, false)).toBe('/dst/.a.3.foldercopy-part');
  });

  it('recognises the names tempPathFor makes, newlines included', () => {
    for (const name of ['file.txt', '.hidden', 'a\nb', 'a\uE00Ab', 'a\rb', 'x'.repeat(250), 'with space']) {
      const temp = tempPathFor(`/dst/${name}`, 12345);
      expect(isTempName(temp.slice('/dst/'.length))).toBe(true);
    }
  });

  it('does not take ordinary names for temporary ones', () => {
    for (const name of [
      'file.txt',
      '.hidden',
      'file.123.foldercopy-part',
      '.file.foldercopy-part',
      '.file.12a.foldercopy-part',
      '.file.123.foldercopy-part.bak',
      '.file.123.foldercopy-part\n',
      '.file.123.foldercopy-parts',
    ]) {
      expect(isTempName(name)).toBe(false);
    }
  });

  it('gives back the final name and the pid a temporary name carries', () => {
    expect(parseTempName('.a\nb.42.foldercopy-part')).toEqual({ finalName: 'a\nb', pid: 42 });
    expect(parseTempName('a.42.foldercopy-part')).toBeUndefined();
  });
});

describe('the other names of ours', () => {
  it('names a staging directory beside the destination, and a fresh one per attempt', () => {
    expect(stagingPathFor('/d/copy', 77, 0)).toBe('/d/.copy.77.foldercopy-part');
    expect(stagingPathFor('/d/copy', 77, 2)).toBe('/d/.copy.77.2.foldercopy-part');
  });

  it("finds the run's pid in a staging directory's name for the same destination only", () => {
    expect(stagingPidOf('/d/copy', '/d/.copy.77.foldercopy-part')).toBe(77);
    expect(stagingPidOf('/d/copy', '/d/.copy.77.2.foldercopy-part')).toBe(77);
    for (const other of ['/d/.copy2.77.foldercopy-part', '/d/.copy.12x.foldercopy-part', '/d/.copy.77.foldercopy-lock', '/e/.copy.77.foldercopy-part']) {
      expect(stagingPidOf('/d/copy', other)).toBeUndefined();
    }
  });

  it('names the lock beside the destination, and where a stale one is set aside', () => {
    expect(lockPathFor('/d/copy')).toBe('/d/.copy.foldercopy-lock');
    expect(lockPathFor(`/d/${'c'.repeat(250)}`)).toBe(`/d/.${'c'.repeat(200)}.foldercopy-lock`);
    expect(lockAsidePathFor('/d/.copy.foldercopy-lock', 9)).toBe('/d/.copy.foldercopy-lock.9');
  });

  it('names the case probe and its variants as temporary names', () => {
    const names = [probeNameFor(5, 'probe'), probeNameFor(5, 'otherCase'), probeNameFor(5, 'otherNormalization')];
    expect(names).toEqual(['.foldercopy-Probe-\u00e9.5.foldercopy-part', '.foldercopy-probe-\u00e9.5.foldercopy-part', '.foldercopy-Probe-e\u0301.5.foldercopy-part']);
    for (const name of names) expect(isTempName(name)).toBe(true);
  });

  it('writes the manifest under a temporary name beside it', () => {
    expect(manifestTempPathFor('/logs/run.sha256', 8)).toBe('/logs/run.sha256.8.foldercopy-part');
  });

  it('tells ours (temporary names, staging directories, probes, locks) from the user\'s', () => {
    const ours = [tempPathFor('f', 1), stagingPathFor('copy', 2, 1), probeNameFor(3, 'probe'), lockPathFor('copy')];
    for (const name of ours) expect(isOurName(name)).toBe(true);
    for (const name of ['copy', '.copy.foldercopy-lock.9', 'copy.foldercopy-lock', '.file.12a.foldercopy-part', 'run.log']) expect(isOurName(name)).toBe(false);
  });
});
