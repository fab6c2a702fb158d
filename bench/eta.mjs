// How good the ETA is: copies a mixed tree (20,000 small files in 40 directories and two
// 300 MB files, or --files and --large-mb of them) with the library and compares the ETA
// shown at 10%, 25%, 50% and 75% of the elapsed time with the time that was really left.
// The target: within ±30% at 25%. Where the default tree copies in under a second, a
// bigger one gives the ETA time to be seen.
// --source copies a tree of your own instead (the bench's mixed corpus, say).
//   npm run build && node bench/eta.mjs [--dir DIR] [--runs N] [--files N] [--large-mb N] [--source TREE]
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { copyFolder } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    runs: { type: 'string', default: '3' },
    files: { type: 'string', default: '20000' },
    'large-mb': { type: 'string', default: '300' },
    source: { type: 'string' },
  },
});
const smallFiles = Number(values.files);
const largeMb = Number(values['large-mb']);
const root = path.join(values.dir ?? path.join(os.tmpdir(), 'foldercopy-eta'), `${smallFiles}-${largeMb}`);
const source = values.source ?? path.join(root, 'source');
const destination = path.join(root, 'copy');
const CHECKPOINTS = [0.1, 0.25, 0.5, 0.75];

if (!values.source && !fs.existsSync(path.join(source, 'done'))) {
  fs.rmSync(source, { recursive: true, force: true });
  const directories = Math.max(40, Math.ceil(smallFiles / 500));
  for (let d = 0; d < directories; d++) fs.mkdirSync(path.join(source, `d${d}`), { recursive: true });
  for (let i = 0; i < smallFiles; i++) {
    const d = i % directories;
    fs.writeFileSync(path.join(source, `d${d}`, `f${i}`), `${d} ${i} some content\n`);
  }
  // Random bytes, so no file system can make them cheaper than they are.
  for (const at of ['d5/big1', 'd30/big2']) {
    const fd = fs.openSync(path.join(source, at), 'w');
    for (let i = 0; i < largeMb; i++) fs.writeSync(fd, randomBytes(1_000_000));
    fs.closeSync(fd);
  }
  fs.writeFileSync(path.join(source, 'done'), '');
}

const tree = values.source ? 'your tree' : `${smallFiles + 1} small files, 2 × ${largeMb} MB`;
console.log(`source ${source}: ${tree}; ETA error = (shown - really left) / really left`);
console.log(['run', ...CHECKPOINTS.map((c) => `at ${c * 100}%`), 'total'].join('\t'));
for (let run = 1; run <= Number(values.runs); run++) {
  fs.rmSync(destination, { recursive: true, force: true });
  const samples = [];
  const start = performance.now();
  await copyFolder(source, destination, { onProgress: (p) => samples.push({ at: performance.now() - start, eta: p.etaMs }) });
  const total = performance.now() - start;
  const errors = CHECKPOINTS.map((fraction) => {
    // What the user saw at that moment: the last update before it ('no ETA' while listing, or before any work was timed).
    const sample = samples.findLast((s) => s.at <= fraction * total);
    if (!sample || sample.eta === undefined) return 'no ETA';
    const left = total - sample.at;
    return `${(((sample.eta - left) / left) * 100).toFixed(0)}%`;
  });
  console.log([run, ...errors, `${(total / 1000).toFixed(2)} s`].join('\t'));
}
fs.rmSync(destination, { recursive: true, force: true });
