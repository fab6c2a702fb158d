// An attacker who can change the destination while a copy runs: a directory inside it is swapped
// for a symlink to a directory elsewhere. Nothing may be written, chmod'ed, chown'ed, timed,
// renamed or unlinked through such a link: the outside directory stays exactly as it was.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli, startCommand } from './helpers/run-cli.js';
import { snapshotTree, useTempDirs, writeTree, diffTrees } from './helpers/tree.js';

const tempDir = useTempDirs();

// Swaps every real directory d* in the destination ($1, a glob) for a symlink to the outside ($2),
// again and again, until the file $3 appears (or 20 s pass).
const SWAPPER = `
end=$(( $(date +%s) + 20 ))
while [ "$(date +%s)" -lt "$end" ]; do
  for top in $1; do
    for d in "$top"/d*; do
      [ -d "$d" ] && [ ! -L "$d" ] || continue
      mv "$d" "$d.moved.$$.$RANDOM" 2>/dev/null && ln -s "$2" "$d" 2>/dev/null
    done
  done
  [ -e "$3" ] && exit 0
done`;

describe('a destination directory swapped for a symlink during the run', () => {
  for (const [how, firstCopy] of [
    ['into an existing destination', false],
    ['a first copy', true],
  ] as const) {
    it(`${how}: nothing is written through the link, and the directory outside keeps its entries and times`, async () => {
      const root = await tempDir();
      const src = path.join(root, 'src');
      const dst = path.join(root, 'dst');
      const outside = path.join(root, 'outside');
      const spec: Record<string, string> = {};
      for (let d = 0; d < 40; d++) for (let f = 0; f < 300; f++) spec[`d${d}/f${f}.txt`] = `${d}/${f}\n`;
      await writeTree(src, spec);
      await writeTree(outside, { 'keep.txt': 'outside\n' });
      fs.utimesSync(outside, 1_000_000_000, 1_000_000_000);
      const outsideBefore = await snapshotTree(outside);
      if (!firstCopy) fs.mkdirSync(dst);
      const done = path.join(root, 'done');

      const swapper = startCommand(['sh', '-c', SWAPPER, 'sh', firstCopy ? `${path.dirname(dst)}/.dst.*.foldercopy-part` : dst, outside, done], {
        timeoutMs: 30_000,
      });
      const copy = startCli(['-j', '2', src, dst], { timeoutMs: 60_000 });
      const result = await copy.result;
      fs.writeFileSync(done, '');
      await swapper.result;

      // The outside is untouched: no entry, no mode, no time changed; and the run met the swaps and said so.
      expect(fs.readdirSync(outside)).toEqual(['keep.txt']);
      expect(diffTrees(outsideBefore, await snapshotTree(outside), { mtimePrecision: 'ns' })).toEqual([]);
      expect(fs.statSync(outside).mtimeMs).toBe(1_000_000_000_000);
      expect(result.stderr).toMatch(/\((ELOOP|ENOTDIR|ENOENT)\)$/m);
      expect(result.exitCode).toBe(1);
    });
  }
});
