// On a destination that takes names differing only in case or Unicode normalization for one
// (APFS and NTFS by default, casefolded ext4), two source names must never silently merge: the
// second is reported (ECASECOLLISION, naming the first) and the first is copied whole. No kernel
// here can mount such a file system, so FOLDERCOPY_TEST_CASE_INSENSITIVE=1 makes the probe answer
// "insensitive"; the probe itself is tested on this machine's case-sensitive destination.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeNameRules } from '../src/destination/name-rules.js';
import { runCli } from './helpers/run-cli.js';
import { useTempDirs, writeTree } from './helpers/tree.js';

const tempDir = useTempDirs();
const NFC = 'caf\u00e9';
const NFD = 'cafe\u0301';

async function collidingTree(root: string): Promise<string> {
  const src = path.join(root, 'src');
  await writeTree(src, {
    README: 'upper\n',
    readme: 'lower\n',
    'Docs/a.txt': 'in Docs\n',
    docs: 'a file named docs\n',
    [NFC]: 'composed\n',
    [NFD]: 'decomposed\n',
    'other.txt': 'no collision\n',
  });
  return src;
}

describe('names the destination takes for one', () => {
  it('the probe finds this destination case- and normalization-sensitive, and leaves nothing behind', async () => {
    const root = await tempDir();
    expect(probeNameRules(root)).toEqual({ caseInsensitive: false, normalizationInsensitive: false });
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('on this case-sensitive destination, README and readme are both copied', async () => {
    const root = await tempDir();
    const src = await collidingTree(root);
    const dst = path.join(root, 'dst');

    const result = await runCli([src, dst]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(fs.readdirSync(dst).sort()).toEqual(fs.readdirSync(src).sort());
  });

  it('on a case-insensitive destination, the second of each pair fails with ECASECOLLISION naming the first; the first is copied whole', async () => {
    const root = await tempDir();
    const src = await collidingTree(root);
    const dst = path.join(root, 'dst');

    const result = await runCli([src, dst, '--json'], { env: { FOLDERCOPY_TEST_CASE_INSENSITIVE: '1' } });

    expect(result.exitCode, result.stderr).toBe(1);
    const lines = result.stderr.split('\n').filter((line) => line.includes('(ECASECOLLISION)'));
    // In byte order the first of each pair is: Docs (before docs), README (before readme), the NFD café (e < é).
    expect(lines.sort()).toEqual(
      [
        `foldercopy: cannot write: ${src}/docs: the destination takes its name for that of "Docs", copied instead (names that differ only in case or Unicode normalization) (ECASECOLLISION)`,
        `foldercopy: cannot write: ${src}/readme: the destination takes its name for that of "README", copied instead (names that differ only in case or Unicode normalization) (ECASECOLLISION)`,
        `foldercopy: cannot write: ${src}/${NFC}: the destination takes its name for that of "${NFD}", copied instead (names that differ only in case or Unicode normalization) (ECASECOLLISION)`,
      ].sort(),
    );
    const summary = JSON.parse(result.stdout) as { counts: { failed: number } };
    expect(summary.counts.failed).toBe(3);
    expect(fs.readdirSync(dst).sort()).toEqual(['Docs', 'README', NFD, 'other.txt'].sort());
    expect(fs.readFileSync(path.join(dst, 'README'), 'utf8')).toBe('upper\n');
    expect(fs.readFileSync(path.join(dst, 'Docs/a.txt'), 'utf8')).toBe('in Docs\n');
    expect(fs.readFileSync(path.join(dst, NFD), 'utf8')).toBe('decomposed\n');
  });
});
