import { describe, expect, it } from 'vitest';
import { itemChanged, itemLine } from '../../src/cli/report.js';
import { CREATED_DIRECTORY, DELETING, directoryItem, jobItem } from '../../src/shared/itemize.js';
import type { OwnerPolicy } from '../../src/shared/jobs.js';
import type { Metadata } from '../../src/shared/metadata.js';
import { decodeResults, ResultsEncoder, type JobResult } from '../../src/shared/protocol.js';

const file = { kind: 'file', path: 'a' } as const;
const symlink = { kind: 'symlink', path: 'l' } as const;
const hardlink = { kind: 'hardlink', path: 'b', target: 'a' } as const;
const asRoot: OwnerPolicy = { preserve: true, uid: 0, gid: 0, groupInherited: false, xattrs: true };
const directory: Metadata = { mode: 0o755, uid: 1000, gid: 100, atime: 1, mtime: 1, atimeNs: 5n, mtimeNs: 5n };

describe("rsync's items (shared/itemize.ts)", () => {
  it('puts the change and the type before the nine attribute letters the worker found', () => {
    expect(jobItem(file, { outcome: 'created', size: 1 })).toBe('>f+++++++++');
    expect(jobItem(symlink, { outcome: 'created', size: 0 })).toBe('cL+++++++++');
    expect(jobItem(hardlink, { outcome: 'created', size: 0 })).toBe('hf+++++++++');
    expect(jobItem(file, { outcome: 'overwritten', size: 1, changes: '.st......' })).toBe('>f.st......');
    expect(jobItem(symlink, { outcome: 'overwritten', size: 0, changes: 'c.t......' })).toBe('cLc.t......');
    expect(jobItem(file, { outcome: 'skipped', size: 1, changes: '...p.....' })).toBe('.f...p.....');
    // Nothing changed: the attribute columns are blank, as rsync -ii prints them.
    expect(jobItem(file, { outcome: 'skipped', size: 1, changes: '.........' })).toBe('.f         ');
    expect(jobItem(file, { outcome: 'linked', size: 1 })).toBe('hf         ');
    expect(jobItem(hardlink, { outcome: 'skipped', size: 0, changes: '.........' })).toBe('hf         ');
  });

  it("a directory: made, or found with its time, mode, owner or group to set", () => {
    expect(directoryItem(directory, undefined, asRoot)).toBe(CREATED_DIRECTORY);
    expect(directoryItem(directory, { mode: 0o40755, uid: 1000, gid: 100, mtimeNs: 5n }, asRoot)).toBe('.d         ');
    expect(directoryItem(directory, { mode: 0o40700n, uid: 0n, gid: 0n, mtimeNs: 6n }, asRoot)).toBe('.d..tpog...');
    // Without root, owners are not kept, so not compared.
    expect(directoryItem(directory, { mode: 0o40755, uid: 0, gid: 0, mtimeNs: 5n }, { ...asRoot, preserve: false })).toBe('.d         ');
  });

  it('prints a line as rsync does: ./ for the root, a slash after a directory, -> a symlink target, => a hard link first name', () => {
    expect(itemLine({ path: '.', action: 'create', type: 'directory', changes: CREATED_DIRECTORY })).toBe('cd+++++++++ ./');
    expect(itemLine({ path: 'old', action: 'delete', type: 'directory', changes: DELETING })).toBe('*deleting   old/');
    expect(itemLine({ path: 'l', action: 'create', type: 'symlink', changes: 'cL+++++++++', target: 'caf\udce8' })).toBe('cL+++++++++ l -> caf\\xe8');
    expect(itemLine({ path: 'b', action: 'create', type: 'hardlink', changes: 'hf+++++++++', target: 'a' })).toBe('hf+++++++++ b => a');
    expect(itemChanged('.f         ')).toBe(false);
    expect(itemChanged('.f...p.....')).toBe(true);
    expect(itemChanged(DELETING)).toBe(true);
  });
});

describe('the itemized column of the protocol', () => {
  it("carries each job's letters and a symlink's text, only when asked", () => {
    const results: JobResult[] = [
      { outcome: 'created', size: 3 },
      { outcome: 'overwritten', size: 4, changes: '.st......' },
      { outcome: 'skipped', size: 0, changes: '.........', linkText: 'target with spaces' },
    ];
    const encoder = new ResultsEncoder(false, false, true);
    for (const result of results) encoder.add(result);
    const sent = encoder.take(1);
    expect(sent.itemized).toEqual(['', '.st......', '.........target with spaces']);
    expect(decodeResults(sent)).toEqual(results);

    const off = new ResultsEncoder(false);
    off.add(results[1]!);
    expect(off.take(1)).not.toHaveProperty('itemized');
  });
});
