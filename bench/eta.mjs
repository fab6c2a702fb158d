// How good the ETA is: copies a mixed tree (20,000 small files in 40 directories and two
// 300 MB files) with the library and compares the ETA shown at 10%, 25%, 50% and 75% of
// the elapsed time with the time that was really left. The target: within ±30% at 25%.
//   npm run build && node bench/eta.mjs [--dir DIR] [--runs N]
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { copyFolder } from '../dist/index.js';

const { values } = parseArgs({ options: { dir: { type: 'string' }, runs: { type: 'string', default: '3' } } });
const root = values.dir ?? path.join(os.tmpdir(), 'foldercopy-eta');
const source = path.join(root, 'source');
const destination = path.join(root, 'copy');
const CHECKPOINTS = [0.1, 0.25, 0.5, 0.75];

if (!fs.existsSync(path.join(source, 'done'))) {
  fs.rmSync(source, { recursive: true, force: true });
  for (let d = 0; d < 40; d++) {
    fs.mkdirSync(path.join(source, `d${d}`), { recursive: true });
    for (let f = 0; f < 500; f++) fs.writeFileSync(path.join(source, `d${d}`, `f${f}`), `${d} ${f} some content\n`);
  }
  // Random bytes, so no file system can make them cheaper than they are.
  for (const at of ['d5/big1', 'd30/big2']) {
    const fd = fs.openSync(path.join(source, at), 'w');
    for (let i = 0; i < 300; i++) fs.writeSync(fd, randomBytes(1_000_000));
    fs.closeSync(fd);
  }
  fs.writeFileSync(path.join(source, 'done'), '');
}

console.log(`source ${source}: 20,001 small files, 2 × 300 MB; ETA error = (shown - really left) / really left`);
console.log(['run', ...CHECKPOINTS.map((c) => `at ${c * 100}%`), 'total'].join('\t'));
for (let run = 1; run <= Number(values.runs); run++) {
  fs.rmSync(destination, { recursive: true, force: true });
  const samples = [];
  const start = performance.now();
  await copyFolder(source, destination, { onProgress: (p) => samples.push({ at: performance.now() - start, eta: p.etaMs }) });
  const total = performance.now() - start;
  const errors = CHECKPOINTS.map((fraction) => {
    const sample = samples.find((s) => s.at >= fraction * total && s.eta !== undefined);
    if (!sample) return 'n/a';
    const left = total - sample.at;
    return `${(((sample.eta - left) / left) * 100).toFixed(0)}%`;
  });
  console.log([run, ...errors, `${(total / 1000).toFixed(2)} s`].join('\t'));
}
fs.rmSync(destination, { recursive: true, force: true });
