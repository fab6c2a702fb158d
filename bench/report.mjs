// Turns raw runs into the per-corpus table, the target verdicts, and the
// machine description stored with every result file.
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { describeStats } from './corpus.mjs';

export const MB = 1e6; // targets are in decimal MB

/** The goals foldercopy is held to; ratios are against cp -a in the same pairs. */
export const TARGETS = {
  ratio: { small: { max: 0.8, stretch: 0.7 }, mixed: { max: 0.8, stretch: 0.7 }, large: { max: 1.05 } },
  peakMemoryMB: { default: 250, huge: 300 },
  tinyLatencySeconds: 0.3,
  /** A no-op re-run over an up-to-date copy of small: at least this many times faster than the copy. */
  noopSpeedup: 4,
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
 *            peakRssBytes: number, ok: boolean}} RunRecord
 * @typedef {{tool: string, runs: number, failed: number, medianSeconds: number, minSeconds: number,
 *            maxSeconds: number, medianRatio: number | null, ratios: number[], peakRssBytes: number,
 *            identical: boolean | null, nsExact: boolean | null, differences: number | null}} ToolSummary
 */

/**
 * @param {{tools: string[], runs: RunRecord[], verification: Record<string, any>}} corpus
 * @returns {ToolSummary[]}
 */
export function summarize(corpus) {
  const timedOk = (tool) => corpus.runs.filter((r) => r.tool === tool && r.kind === 'timed' && r.ok);
  const cpByPair = new Map(timedOk('cp -a').map((r) => [r.pair, r.wallSeconds]));
  return corpus.tools.map((tool) => {
    const runs = timedOk(tool);
    const times = runs.map((r) => r.wallSeconds);
    // pair i of the tool against pair i of cp -a: both ran back to back under the same noise
    const ratios = runs.filter((r) => cpByPair.has(r.pair)).map((r) => r.wallSeconds / /** @type {number} */ (cpByPair.get(r.pair)));
    const all = corpus.runs.filter((r) => r.tool === tool);
    const v = corpus.verification[tool];
    const noop = corpus.runs.filter((r) => r.tool === tool && r.kind === 'noop' && r.ok).map((r) => r.wallSeconds);
    return {
      tool,
      noopMedianSeconds: noop.length ? median(noop) : null,
      runs: runs.length,
      failed: all.filter((r) => !r.ok).length,
      medianSeconds: median(times),
      minSeconds: times.length ? Math.min(...times) : NaN,
      maxSeconds: times.length ? Math.max(...times) : NaN,
      medianRatio: ratios.length ? median(ratios) : null,
      ratios,
      peakRssBytes: Math.max(0, ...all.map((r) => r.peakRssBytes)),
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

/** @param {{name: string, stats: any, pairs: number}} corpus @param {ToolSummary[]} rows */
export function formatTable(corpus, rows) {
  const header = ['tool', 'median', 'min–max', '× cp -a', 'peak mem', 'identical', 'ns mtimes'];
  const body = rows.map((r) => [
    r.tool,
    secs(r.medianSeconds),
    Number.isFinite(r.minSeconds) ? `${secs(r.minSeconds)} – ${secs(r.maxSeconds)}` : '—',
    r.medianRatio === null ? '—' : `${r.medianRatio.toFixed(2)}×`,
    r.runs || r.failed ? mb(r.peakRssBytes) : '—',
    r.identical === null ? '—' : r.identical ? 'yes' : `NO (${r.differences})`,
    r.nsExact === null ? '—' : r.nsExact ? 'exact' : 'rounded',
  ].concat(r.failed ? [`${r.failed} run(s) failed`] : []));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells) => cells.map((c, i) => (i < widths.length ? c.padEnd(/** @type {number} */ (widths[i])) : c)).join('  ').trimEnd();
  return [
    `${corpus.name}: ${describeStats(corpus.stats)}; ${corpus.pairs} timed pair${corpus.pairs === 1 ? '' : 's'}`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    ...rows
      .filter((r) => r.noopMedianSeconds !== null)
      .map((r) => `${r.tool} again over its up-to-date copy (no-op): ${secs(r.noopMedianSeconds)} median, ${(r.medianSeconds / r.noopMedianSeconds).toFixed(1)}× faster than the copy`),
  ].join('\n');
}

/**
 * @param {Record<string, ToolSummary[]>} summaries corpus name → rows
 * @returns {{status: 'PASS' | 'FAIL', text: string}[]}
 */
export function evaluateTargets(summaries) {
  /** @type {{status: 'PASS' | 'FAIL', text: string}[]} */
  const lines = [];
  const fc = (name) => summaries[name]?.find((r) => r.tool === 'foldercopy');
  const verdict = (ok, text) => lines.push({ status: ok ? 'PASS' : 'FAIL', text });

  for (const [name, goal] of Object.entries(TARGETS.ratio)) {
    const row = fc(name);
    if (!row) continue;
    if (row.medianRatio === null) {
      verdict(false, `${name}: no successful paired runs`);
      continue;
    }
    const stretch = 'stretch' in goal
      ? `; stretch ≤ ${goal.stretch.toFixed(2)}× ${row.medianRatio <= goal.stretch ? 'met' : 'not met'}`
      : '';
    // three decimals: 1.052× printed as "1.05×" next to "target ≤ 1.05×" would read as a pass
    verdict(row.medianRatio <= goal.max, `${name}: ${row.medianRatio.toFixed(3)}× cp -a (target ≤ ${goal.max.toFixed(2)}×${stretch})`);
  }
  for (const [name, rows] of Object.entries(summaries)) {
    const row = rows.find((r) => r.tool === 'foldercopy');
    if (!row) continue;
    const limit = name === 'huge' ? TARGETS.peakMemoryMB.huge : TARGETS.peakMemoryMB.default;
    verdict(row.runs > 0 && row.peakRssBytes <= limit * MB, `${name}: peak tree memory ${mb(row.peakRssBytes)} (target ≤ ${limit} MB)`);
  }
  for (const [name, rows] of Object.entries(summaries)) {
    const row = rows.find((r) => r.tool === 'foldercopy');
    if (!row || row.noopMedianSeconds === null) continue;
    const speedup = row.medianSeconds / row.noopMedianSeconds;
    verdict(speedup >= TARGETS.noopSpeedup, `${name}: no-op re-run ${speedup.toFixed(1)}× faster than the first copy (target ≥ ${TARGETS.noopSpeedup}×)`);
  }
  const tiny = fc('tiny');
  if (tiny) {
    verdict(tiny.medianSeconds <= TARGETS.tinyLatencySeconds, `tiny: start-to-exit ${secs(tiny.medianSeconds)} median (target ≤ ${TARGETS.tinyLatencySeconds} s)`);
  }
  for (const [name, rows] of Object.entries(summaries)) {
    const row = rows.find((r) => r.tool === 'foldercopy');
    if (!row) continue;
    if (row.identical === null) verdict(false, `${name}: copy not verified (no successful run)`);
    else verdict(row.identical, `${name}: copy identical to the source${row.identical ? '' : ` — ${row.differences} entries differ`}${row.nsExact === false ? ' (mtimes not ns-exact)' : ''}`);
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
