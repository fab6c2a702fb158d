// How good the ETA is: copies a tree with the library, several times, and compares the
// ETA shown at 25%, 50% and 75% of each run's elapsed time with the time that was really
// left. The default tree is 20,000 small files in 40 directories and two 300 MB files
// (--files and --large-mb for another size); each --source adds a tree of your own (the
// bench's mixed corpus, say: node bench/corpus.mjs mixed DIR). The target: within ±30%
// at each checkpoint, on a quiet machine and with every core kept busy by other
// processes (--load); where the copy cannot know yet, no ETA rather than a wrong one.
// --large-at-top puts the two large files at the top of the tree (the copy still meets them
// after queueing the small files); --trace DIR keeps each run's progress updates there, as
// JSON, to replay through the estimator (bench/eta-replay.mjs).
//   npm run build && node bench/eta.mjs [--dir DIR] [--runs N] [--files N] [--large-mb N] [--large-at-top]
//                                       [--source TREE]... [--only-sources] [--load] [--trace DIR]
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { copyFolder } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    runs: { type: 'string', default: '5' },
    files: { type: 'string', default: '20000' },
    'large-mb': { type: 'string', default: '300' },
    source: { type: 'string', multiple: true, default: [] },
    'only-sources': { type: 'boolean', default: false },
    load: { type: 'boolean', default: false },
    'large-at-top': { type: 'boolean', default: false },
    trace: { type: 'string' },
  },
});
const CHECKPOINTS = [0.25, 0.5, 0.75];
const TARGET = 0.3;
const runs = Number(values.runs);
const smallFiles = Number(values.files);
const largeMb = Number(values['large-mb']);
const largeAtTop = values['large-at-top'];
const root = path.join(values.dir ?? path.join(os.tmpdir(), 'foldercopy-eta'), `${smallFiles}-${largeMb}${largeAtTop ? '-top' : ''}`);

/** The default tree, made once: small files, and two large ones of random bytes (no file system makes those cheaper). */
function defaultTree() {
  const source = path.join(root, 'source');
  if (fs.existsSync(path.join(source, 'done'))) return source;
  fs.rmSync(source, { recursive: true, force: true });
  const directories = Math.max(40, Math.ceil(smallFiles / 500));
  for (let d = 0; d < directories; d++) fs.mkdirSync(path.join(source, `d${d}`), { recursive: true });
  for (let i = 0; i < smallFiles; i++) {
    const d = i % directories;
    fs.writeFileSync(path.join(source, `d${d}`, `f${i}`), `${d} ${i} some content\n`);
  }
  // Two directories down, or at the top of the tree.
  for (const at of largeAtTop ? ['big1', 'big2'] : ['d5/big1', 'd30/big2']) {
    const fd = fs.openSync(path.join(source, at), 'w');
    for (let i = 0; i < largeMb; i++) fs.writeSync(fd, randomBytes(1_000_000));
    fs.closeSync(fd);
  }
  fs.writeFileSync(path.join(source, 'done'), '');
  return source;
}

/** One busy loop per core, in processes of their own, as another program's work would be. */
function startLoad() {
  return Array.from({ length: os.availableParallelism() }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

/** With --trace: the bytes of the tree's large files (8 MiB or more), which the replay needs and the updates do not tell. */
function largeBytesOf(source) {
  let bytes = 0;
  for (const entry of fs.readdirSync(source, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const size = fs.lstatSync(path.join(entry.parentPath ?? entry.path, entry.name)).size;
    if (size >= 8 * 1024 * 1024) bytes += size;
  }
  return bytes;
}

/** With --trace: each update's counters as the run saw them (totalsKnown: the walk done and the census's bytes in). */
function traceSample(at, progress) {
  const { filesDone, filesTotal, bytesDone, etaMs, percent, elapsedMs, listing, totalsKnown } = progress;
  return { at, elapsedMs, filesDone, filesTotal, bytesDone, etaMs, percent, listing, totalsKnown };
}

/** One copy: for each checkpoint, (shown − really left) / really left, or null where no ETA was shown. */
async function measure(source, destination) {
  fs.rmSync(destination, { recursive: true, force: true });
  // The removal's writes are flushed before the copy starts, not during it.
  execFileSync('sync');
  const samples = [];
  const start = performance.now();
  const onProgress = (p) => {
    const at = performance.now() - start;
    samples.push(values.trace ? traceSample(at, p) : { at, etaMs: p.etaMs });
  };
  await copyFolder(source, destination, { onProgress });
  const total = performance.now() - start;
  const errors = CHECKPOINTS.map((fraction) => {
    // What the user saw at that moment: the last update before it.
    const sample = samples.findLast((s) => s.at <= fraction * total);
    if (!sample || sample.etaMs === undefined) return null;
    const left = total - sample.at;
    return (sample.etaMs - left) / left;
  });
  return { errors, total, samples };
}

const percent = (error) => `${error > 0 ? '+' : ''}${(error * 100).toFixed(0)}%`;
const median = (numbers) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const defaultSource = values['only-sources'] ? undefined : defaultTree();
const trees = defaultSource ? [{ name: `${smallFiles + 1} small + 2 × ${largeMb} MB${largeAtTop ? ' at the top' : ''}`, source: defaultSource }] : [];
for (const source of values.source) trees.push({ name: path.basename(path.resolve(source)), source: path.resolve(source) });
const destination = path.join(root, 'copy');
const load = values.load ? startLoad() : [];
const stopLoad = () => {
  for (const child of load) child.kill('SIGKILL');
};
process.on('exit', stopLoad);
process.on('SIGINT', () => process.exit(130));

console.log(`${runs} runs per tree${values.load ? `, ${load.length} busy processes beside` : ', no other load'}; ETA error = (shown − really left) / really left`);
const table = [];
for (const tree of trees) {
  console.log(`\n${tree.name} (${tree.source})`);
  console.log(['run', ...CHECKPOINTS.map((c) => `at ${c * 100}%`), 'total', 'load average'].join('\t'));
  const results = [];
  const largeBytes = values.trace ? largeBytesOf(tree.source) : undefined;
  for (let run = 1; run <= runs; run++) {
    const result = await measure(tree.source, destination);
    result.loadavg = os.loadavg()[0];
    results.push(result);
    if (values.trace) {
      fs.mkdirSync(values.trace, { recursive: true });
      const name = `${path.basename(tree.source === defaultSource ? root : tree.source)}-${values.load ? 'load' : 'quiet'}-${run}.json`;
      const trace = { tree: tree.name, load: values.load, run, total: result.total, loadavg: os.loadavg(), largeBytes, samples: result.samples };
      fs.writeFileSync(path.join(values.trace, name), JSON.stringify(trace));
    }
    console.log([run, ...result.errors.map((e) => (e === null ? 'no ETA' : percent(e))), `${(result.total / 1000).toFixed(2)} s`, result.loadavg.toFixed(1)].join('\t'));
  }
  const totals = results.map((r) => r.total / 1000);
  const loads = results.map((r) => r.loadavg);
  const cells = CHECKPOINTS.map((_, i) => {
    const shown = results.map((r) => r.errors[i]).filter((e) => e !== null);
    const none = results.length - shown.length;
    const within = shown.filter((e) => Math.abs(e) <= TARGET).length;
    if (shown.length === 0) return `no ETA ×${none}`;
    const magnitudes = shown.map(Math.abs);
    const worst = shown.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a));
    return `${(median(magnitudes) * 100).toFixed(0)}% / ${percent(worst)} (${within}/${shown.length} within${none ? `; no ETA ×${none}` : ''})`;
  });
  const range = (numbers, digits) => `${Math.min(...numbers).toFixed(digits)}–${Math.max(...numbers).toFixed(digits)}`;
  table.push(`| ${tree.name} | ${range(loads, 1)} | ${range(totals, 2)} s | ${cells.join(' | ')} |`);
}
fs.rmSync(destination, { recursive: true, force: true });
stopLoad();

console.log(`\nmedian |error| / worst error (runs within ±${TARGET * 100}% of those that showed an ETA; runs that showed none)${values.load ? ', under load' : ''}:\n`);
console.log(`| tree | load average | runs | ${CHECKPOINTS.map((c) => `at ${c * 100}%`).join(' | ')} |`);
console.log(`|---|---|---|${CHECKPOINTS.map(() => '---|').join('')}`);
for (const row of table) console.log(row);
