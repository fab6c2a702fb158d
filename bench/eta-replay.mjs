// Replays runs that bench/eta.mjs --trace recorded through the estimator in src/run/estimate.ts as it
// is now (bundled afresh with esbuild), and prints the ETA it would have shown at 25%, 50% and 75%
// of each run against the time really left, as eta.mjs does; then how many it showed and how many
// of those were within ±30%, and the same over every update with more than a second left. The inputs are rebuilt from the updates: the totals are known when the
// update says so (totalsKnown; in traces recorded before it existed, once the total of files is the
// final one; the copy's walk is taken as done there too), and a large file's bytes from the bytes done less the small files' mean share (exact for
// the default tree, whose small files hold a few bytes each; where the large files hold under half
// the bytes, as the mixed corpus's one 9 MB file, they are taken to be written at the end).
//   node bench/eta-replay.mjs TRACE.json...
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CHECKPOINTS = [0.25, 0.5, 0.75];
const TARGET = 0.3;
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'eta-replay-')), 'estimate.mjs');
execFileSync(path.join(root, 'node_modules/.bin/esbuild'), [path.join(root, 'src/run/estimate.ts'), '--bundle', '--format=esm', '--platform=node', `--outfile=${bundle}`, '--log-level=warning']);
const { WorkEstimator } = await import(bundle);
fs.rmSync(path.dirname(bundle), { recursive: true, force: true });

/** What the estimator would have shown at each update of a traced run. */
function replay({ samples, largeBytes }) {
  const last = samples.at(-1);
  const smallMean = (last.bytesDone - largeBytes) / Math.max(1, last.filesTotal);
  const estimator = new WorkEstimator();
  const largeDone = (s) =>
    largeBytes < last.bytesDone / 2 ? (s === last ? largeBytes : 0) : Math.min(largeBytes, Math.max(0, s.bytesDone - s.filesDone * smallMean));
  let known = false;
  let walked = false;
  return samples.map((s) => {
    const largeBytesDone = largeDone(s);
    // The copy's walk is done once the total is the final one (the traces do not say when it ended).
    if (!walked && s.filesTotal >= last.filesTotal && !s.listing) {
      walked = true;
      estimator.walkDone(s.elapsedMs);
    }
    const totalsKnown = s.totalsKnown ?? s.filesTotal >= last.filesTotal;
    if (totalsKnown && !known) {
      known = true;
      estimator.totalsKnown(s.elapsedMs);
    }
    estimator.add({ elapsedMs: s.elapsedMs, filesDone: s.filesDone, largeBytesDone });
    if (s.listing) return { at: s.at, etaMs: undefined };
    const left = { files: Math.max(0, s.filesTotal - s.filesDone), largeBytes: largeBytes - largeBytesDone, largeKnown: totalsKnown };
    return { at: s.at, etaMs: estimator.eta(s.elapsedMs, left) };
  });
}

const errors = [];
/** Every update with more than a second left, not only the checkpoints: how many showed an ETA, and how far off. */
const updates = { count: 0, errors: [] };
for (const file of process.argv.slice(2)) {
  const trace = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (trace.largeBytes === undefined) {
    console.log(`${path.basename(file, '.json')}\tno largeBytes in the trace (recorded before eta.mjs kept it): skipped`);
    continue;
  }
  const shown = replay(trace);
  const row = CHECKPOINTS.map((fraction) => {
    const update = shown.findLast((s) => s.at <= fraction * trace.total);
    if (!update || update.etaMs === undefined) return null;
    const left = trace.total - update.at;
    return (update.etaMs - left) / left;
  });
  errors.push(...row);
  for (const update of shown) {
    const left = trace.total - update.at;
    if (left <= 1000) continue;
    updates.count++;
    if (update.etaMs !== undefined) updates.errors.push((update.etaMs - left) / left);
  }
  const cells = row.map((e) => (e === null ? 'no ETA' : `${e > 0 ? '+' : ''}${(e * 100).toFixed(0)}%`));
  console.log([path.basename(file, '.json'), `${(trace.total / 1000).toFixed(2)} s`, ...cells].join('\t'));
}
const shown = errors.filter((e) => e !== null);
console.log(`\n${errors.length} checkpoints: an ETA at ${shown.length}, ${shown.filter((e) => Math.abs(e) <= TARGET).length} of them within ±${TARGET * 100}%`);
const worst = updates.errors.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a), 0);
console.log(
  `${updates.count} updates with more than a second left: an ETA at ${updates.errors.length}, ${updates.errors.filter((e) => Math.abs(e) <= TARGET).length} of them within ±${TARGET * 100}%; the worst ${(worst * 100).toFixed(0)}%`,
);
