// Turns raw runs into the per-corpus table, the target verdicts, and the
// machine description stored with every result file.
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { describeStats } from './corpus.mjs';

export const MB = 1e6; // targets are in decimal MB

/** The goals foldercopy is held to; ratios are against another tool in the same pairs. */
export const TARGETS = {
  /** × cp -a, median of the pairs, by row. */
  ratio: {
    small: { max: 0.65 }, mixed: { max: 0.7 }, large: { max: 0.65 },
    'btrfs-mixed': { max: 0.8 }, 'xfs-mixed': { max: 0.8 },
  },
  peakMemoryMB: { default: 250, huge: 300 },
  tinyLatencySeconds: 0.3,
  /** A no-op re-run over an up-to-date copy of small: at least this many times faster than the copy. */
  noopSpeedup: 4,
  /** Start to exit on fixtures/demo: at most this many times `node -e 0`'s. */
  startupVsNode: 1.5,
  /** A no-op re-run: at most this many times rsync -a's own no-op re-run, by row. */
  noopVsRsync: { 'noop-small': 1.0, 'noop-mixed': 1.0 },
  /** A snapshot of an unchanged source (every file linked): at most this many times rsync -a --link-dest's, by row. */
  snapshotVsRsync: { 'snapshot-mixed': 1.0 },
  /** Onto the latency mount: this tool at least this many times faster than cp -a. */
  latency: { tool: 'foldercopy -j 16', speedup: 5 },
  /**
   * A planned copy (plan, parts, finalize, check) against one ordinary run of the same tree: at most this many
   * times its time; on the latency mount, all parts at once at least this many times faster than one at a time.
   */
  parts: { overhead: 1.15, latencySpeedup: 4 },
  /** Where cp -a clones (reflinks): foldercopy within factor × cp -a's time plus its own start-up. */
  clone: { factor: 1.5 },
};

/** @param {number[]} xs */
export function median(xs) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? /** @type {number} */ (s[mid]) : (/** @type {number} */ (s[mid - 1]) + /** @type {number} */ (s[mid])) / 2;
}

/**
 * @typedef {{tool: string, kind: 'warmup' | 'timed', pair: number, wallSeconds: number,
 *            peakRssBytes: number, peakProcesses?: number, ok: boolean}} RunRecord
 * @typedef {{tool: string, runs: number, failed: number, medianSeconds: number, minSeconds: number,
 *            maxSeconds: number, medianRatio: number | null, ratios: number[],
 *            vs: Record<string, {median: number, ratios: number[]}>, budgetRatio: number | null,
 *            budgetRatios: number[], checked: boolean, peakRssBytes: number, peakProcesses: number,
 *            cloned: {files: number, cloned: number} | null,
 *            identical: boolean | null, nsExact: boolean | null, differences: number | null}} ToolSummary
 * @typedef {{tool: string, factor: number, of: string, plus: string}} Budget
 *   per pair, tool's time against factor × (of's time) + (plus's time)
 */

/**
 * @param {{tools: string[], runs: RunRecord[], verification: Record<string, any>,
 *          compare?: string[], verified?: string[], budget?: Budget}} row
 * @returns {ToolSummary[]}
 */
export function summarize(row) {
  const timedOk = (tool) => row.runs.filter((r) => r.tool === tool && r.kind === 'timed' && r.ok);
  const byPair = (tool) => new Map(timedOk(tool).map((r) => [r.pair, r.wallSeconds]));
  // pair i of a tool against pair i of another: both ran back to back under the same noise
  const pairedRatios = (tool, other) => {
    const theirs = byPair(other);
    return timedOk(tool).filter((r) => theirs.has(r.pair)).map((r) => r.wallSeconds / /** @type {number} */ (theirs.get(r.pair)));
  };
  const compare = row.compare ?? ['cp -a'];
  return row.tools.map((tool) => {
    const runs = timedOk(tool);
    const times = runs.map((r) => r.wallSeconds);
    /** @type {Record<string, {median: number, ratios: number[]}>} */
    const vs = {};
    for (const other of compare) {
      if (!row.tools.includes(other)) continue;
      const ratios = pairedRatios(tool, other);
      if (ratios.length) vs[other] = { median: median(ratios), ratios };
    }
    /** @type {number[]} */
    let budgetRatios = [];
    const b = row.budget;
    if (b && b.tool === tool) {
      const of = byPair(b.of);
      const plus = byPair(b.plus);
      budgetRatios = runs.filter((r) => of.has(r.pair) && plus.has(r.pair))
        .map((r) => r.wallSeconds / (b.factor * /** @type {number} */ (of.get(r.pair)) + /** @type {number} */ (plus.get(r.pair))));
    }
    const all = row.runs.filter((r) => r.tool === tool);
    const v = row.verification[tool];
    const cp = pairedRatios(tool, 'cp -a');
    return {
      tool,
      runs: runs.length,
      failed: all.filter((r) => !r.ok).length,
      medianSeconds: median(times),
      minSeconds: times.length ? Math.min(...times) : NaN,
      maxSeconds: times.length ? Math.max(...times) : NaN,
      medianRatio: cp.length ? median(cp) : null,
      ratios: cp,
      vs,
      budgetRatio: budgetRatios.length ? median(budgetRatios) : null,
      budgetRatios,
      checked: (row.verified ?? row.tools).includes(tool),
      peakRssBytes: Math.max(0, ...all.map((r) => r.peakRssBytes)),
      peakProcesses: Math.max(0, ...all.map((r) => r.peakProcesses ?? 0)),
      cloned: v?.cloned ?? null,
      identical: v ? v.identical : null,
      nsExact: v ? v.nsExact : null,
      differences: v ? v.differences : null,
    };
  });
}

const secs = (s) => (Number.isFinite(s) ? (s < 0.1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(3)} s`) : '—');
// Since Linux 6.2 VmRSS is a per-CPU counter read without summing the CPUs'
// pending deltas: a few-MB process can read 0. Only small tools are affected.
export const mb = (b) => (b < 0.5 * MB ? '< 0.5 MB' : `${(b / MB).toFixed(b < 10 * MB ? 1 : 0)} MB`);

/**
 * @param {{name: string, stats: any, pairs: number, note?: string, compare?: string[], budget?: Budget}} row
 * @param {ToolSummary[]} rows
 */
export function formatTable(row, rows) {
  const compare = (row.compare ?? ['cp -a']).filter((c) => rows.some((r) => r.tool === c));
  const header = ['tool', 'median', 'min–max', ...compare.map((c) => `× ${c}`), 'peak mem', 'identical', 'ns mtimes'];
  const body = rows.map((r) => [
    r.tool,
    secs(r.medianSeconds),
    Number.isFinite(r.minSeconds) ? `${secs(r.minSeconds)} – ${secs(r.maxSeconds)}` : '—',
    ...compare.map((c) => (r.vs[c] ? `${r.vs[c].median.toFixed(2)}×` : '—')),
    r.runs || r.failed ? mb(r.peakRssBytes) : '—',
    r.identical === null ? '—' : r.identical ? 'yes' : `NO (${r.differences})`,
    r.nsExact === null ? '—' : r.nsExact ? 'exact' : 'rounded',
  ].concat(r.failed ? [`${r.failed} run(s) failed`] : []));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => (cells[i] ?? '').length)));
  const line = (cells) => cells.map((c, i) => (i < widths.length ? c.padEnd(/** @type {number} */ (widths[i])) : c)).join('  ').trimEnd();
  const footer = [];
  const b = row.budget;
  const budgeted = b && rows.find((r) => r.tool === b.tool);
  if (b && budgeted?.budgetRatio != null) {
    footer.push(`${b.tool} against ${b.factor} × ${b.of} + ${b.plus}, per pair: ${budgeted.budgetRatio.toFixed(2)}× median (within at ≤ 1)`);
  }
  const clones = rows.filter((r) => r.cloned);
  if (clones.length) {
    footer.push(`files cloned (all extents shared, filefrag): ${clones.map((r) => `${r.tool} ${r.cloned?.cloned}/${r.cloned?.files}`).join(', ')}`);
  }
  // "n× faster than cp -a" reads better than 0.19× where many tools race one
  if (compare.includes('cp -a') && rows.filter((r) => r.tool.startsWith('foldercopy -j')).length > 1) {
    const speedups = rows.filter((r) => r.tool.startsWith('foldercopy -j') && r.vs['cp -a'])
      .map((r) => `${r.tool.slice('foldercopy '.length)} ${median(r.vs['cp -a'].ratios.map((x) => 1 / x)).toFixed(1)}×`);
    if (speedups.length) footer.push(`times faster than cp -a (median of pairs): ${speedups.join(', ')}`);
    // -j is an upper bound: the pool forks more workers only while work waits for them
    footer.push(`most processes at once (parent and workers): ${rows.filter((r) => r.tool.startsWith('foldercopy -j')).map((r) => `${r.tool.slice('foldercopy '.length)} ${r.peakProcesses}`).join(', ')}`);
  }
  return [
    `${row.name}: ${describeStats(row.stats)}${row.note ? `, ${row.note}` : ''}; ${row.pairs} timed pair${row.pairs === 1 ? '' : 's'}`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    ...footer,
  ].join('\n');
}

/**
 * @param {Record<string, ToolSummary[]>} summaries row name → rows
 * @returns {{status: 'PASS' | 'FAIL', text: string}[]}
 */
export function evaluateTargets(summaries) {
  /** @type {{status: 'PASS' | 'FAIL', text: string}[]} */
  const lines = [];
  const find = (name, tool) => summaries[name]?.find((r) => r.tool === tool);
  const fc = (name) => find(name, 'foldercopy');
  const verdict = (ok, text) => lines.push({ status: ok ? 'PASS' : 'FAIL', text });
  const none = (name, against) => verdict(false, `${name}: no successful paired runs against ${against}`);

  for (const [name, goal] of Object.entries(TARGETS.ratio)) {
    const row = fc(name);
    if (!row) continue;
    if (row.medianRatio === null) {
      none(name, 'cp -a');
      continue;
    }
    const stretch = 'stretch' in goal
      ? `; stretch ≤ ${goal.stretch.toFixed(2)}× ${row.medianRatio <= goal.stretch ? 'met' : 'not met'}`
      : '';
    // three decimals: 1.052× printed as "1.05×" next to "target ≤ 1.05×" would read as a pass
    verdict(row.medianRatio <= goal.max, `${name}: ${row.medianRatio.toFixed(3)}× cp -a (target ≤ ${goal.max.toFixed(2)}×${stretch})`);
  }
  const startup = fc('startup');
  if (startup) {
    const node = startup.vs['node -e 0'];
    if (!node) none('startup', 'node -e 0');
    else verdict(node.median <= TARGETS.startupVsNode, `startup: ${node.median.toFixed(2)}× node -e 0 (target ≤ ${TARGETS.startupVsNode.toFixed(2)}×)${startup.vs['cp -a'] ? `; ${startup.vs['cp -a'].median.toFixed(1)}× cp -a` : ''}`);
  }
  for (const [name, max] of Object.entries(TARGETS.noopVsRsync)) {
    const row = fc(name);
    if (!row) continue;
    const rsync = row.vs['rsync -a'];
    if (!rsync) none(name, 'rsync -a');
    else verdict(rsync.median <= max, `${name}: ${rsync.median.toFixed(3)}× rsync -a's no-op re-run (target ≤ ${max.toFixed(2)}×)`);
  }
  for (const [name, max] of Object.entries(TARGETS.snapshotVsRsync)) {
    const row = find(name, 'foldercopy --snapshot');
    if (!row) continue;
    const rsync = row.vs['rsync -a --link-dest'];
    if (!rsync) none(name, 'rsync -a --link-dest');
    else verdict(rsync.median <= max, `${name}: ${rsync.median.toFixed(3)}× rsync -a --link-dest (target ≤ ${max.toFixed(2)}×)`);
  }
  for (const name of Object.keys(summaries).filter((n) => n.startsWith('latency-'))) {
    const row = find(name, TARGETS.latency.tool);
    if (!row) continue;
    const cp = row.vs['cp -a'];
    if (!cp) {
      none(name, 'cp -a');
      continue;
    }
    const speedup = median(cp.ratios.map((x) => 1 / x));
    verdict(speedup >= TARGETS.latency.speedup, `${name}: ${TARGETS.latency.tool} ${speedup.toFixed(1)}× faster than cp -a (target ≥ ${TARGETS.latency.speedup}×)`);
  }
  for (const name of ['parts-small', 'parts-mixed']) {
    const row = summaries[name]?.[0];
    if (!row) continue;
    const one = row.vs.foldercopy;
    if (!one) none(name, 'foldercopy');
    else verdict(one.median <= TARGETS.parts.overhead, `${name}: ${row.tool} ${one.median.toFixed(3)}× one ordinary run (target ≤ ${TARGETS.parts.overhead.toFixed(2)}×)`);
  }
  const latencyParts = summaries['latency-parts'];
  if (latencyParts) {
    const first = latencyParts[0];
    const last = latencyParts.filter((r) => r.tool !== 'cp -a').at(-1);
    const vs = last?.vs[first?.tool ?? ''];
    if (!first || !last || !vs) none('latency-parts', 'one part at a time');
    else {
      const speedup = median(vs.ratios.map((x) => 1 / x));
      verdict(speedup >= TARGETS.parts.latencySpeedup, `latency-parts: ${last.tool} ${speedup.toFixed(1)}× faster than ${first.tool} (target ≥ ${TARGETS.parts.latencySpeedup}×)`);
    }
  }
  for (const [name, rows] of Object.entries(summaries)) {
    const row = rows.find((r) => r.tool === 'foldercopy' && r.budgetRatios.length);
    if (!row || row.budgetRatio === null) continue;
    verdict(row.budgetRatio <= 1, `${name}: ${row.budgetRatio.toFixed(2)}× of ${TARGETS.clone.factor} × cp -a + start-up (target ≤ 1, where cp -a clones)`);
  }
  for (const [name, rows] of Object.entries(summaries)) {
    const row = rows.find((r) => r.tool === 'foldercopy');
    if (!row) continue;
    const limit = name === 'huge' ? TARGETS.peakMemoryMB.huge : TARGETS.peakMemoryMB.default;
    verdict(row.runs > 0 && row.peakRssBytes <= limit * MB, `${name}: peak tree memory ${mb(row.peakRssBytes)} (target ≤ ${limit} MB)`);
  }
  const small = fc('small');
  const noop = fc('noop-small');
  if (small && noop && small.runs && noop.runs) {
    const speedup = small.medianSeconds / noop.medianSeconds;
    verdict(speedup >= TARGETS.noopSpeedup, `small: no-op re-run ${speedup.toFixed(1)}× faster than the first copy (target ≥ ${TARGETS.noopSpeedup}×)`);
  }
  const tiny = fc('tiny');
  if (tiny) {
    verdict(tiny.medianSeconds <= TARGETS.tinyLatencySeconds, `tiny: start-to-exit ${secs(tiny.medianSeconds)} median (target ≤ ${TARGETS.tinyLatencySeconds} s)`);
  }
  for (const [name, rows] of Object.entries(summaries)) {
    for (const row of rows.filter((r) => r.tool.startsWith('foldercopy') && r.checked)) {
      const who = row.tool === 'foldercopy' ? '' : ` (${row.tool})`;
      if (row.identical === null) verdict(false, `${name}: copy not verified (no successful run)${who}`);
      else verdict(row.identical, `${name}: copy identical to the source${who}${row.identical ? '' : ` — ${row.differences} entries differ`}${row.nsExact === false ? ' (mtimes not ns-exact)' : ''}`);
    }
  }
  return lines;
}
function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout.split('\n')[0] ?? '').trim() : null;
}

export function machineInfo() {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    hostname: os.hostname(),
    nproc: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? null,
    memoryBytes: os.totalmem(),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    cp: firstLine('cp', ['--version']),
    rsync: firstLine('rsync', ['--version']),
    npm: firstLine('npm', ['--version']),
    loadAverage: os.loadavg(),
  };
}
