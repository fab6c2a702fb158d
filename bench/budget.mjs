#!/usr/bin/env node
// The per-file budget: CPU (user + system) per file in foldercopy's parent and
// in its workers, and system calls per file, against cp -a and rsync -a, for a
// copy and for a no-op re-run. See "Per-file budget" in bench/README.md.
//
//   npm run build && node bench/budget.mjs [--corpus mixed] [--runs 3]     (as root: the bench's image)
//   node bench/budget.mjs --source TREE --dir DIR                          (anywhere, no root)
//
// CPU: each tool runs under `bash -c 'tool; times'`, whose second line is the
// CPU of everything bash waited for: the tool and every descendant it reaped
// (workers). Meanwhile /proc/<pid>/stat of the tool and its descendants is read
// every 5 ms: the children's share is the larger of the tool's own cutime +
// cstime (its reaped children) and the sum of each child's last reading; the
// parent's share is the rest. Per file = (CPU on the tree − CPU on a one-file
// tree) / files: the fixed cost of starting (Node, workers) is shown apart.
// System calls: one more run of each under `strace -f -c`, per file the same way.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeStats, ensureCorpus, treeStats } from './corpus.mjs';
import { processTree } from './measure.mjs';
import { setupWorkspace, teardownWorkspace } from './mount.mjs';
import { BenchError, Tail, hasTool, killHelpers, runAsync } from './proc.mjs';
import { median } from './report.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(HERE);
const SAMPLE_MS = 5;
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

const HELP = `Usage: node bench/budget.mjs [options]

Prints CPU per file (foldercopy's parent and workers apart) and system calls
per file of foldercopy, cp -a and rsync -a copying a tree, and of foldercopy and
rsync -a re-running over their up-to-date copies. Alternating runs, medians.

Options:
  --corpus NAME     a bench corpus (tiny, small, mixed, large, …; default: mixed), built
                    on the bench's ext4 image like npm run bench does (root)
  --source DIR      time this tree instead (then --dir says where the copies go)
  --dir PATH        work in this directory instead of the image (no root needed)
  --runs N          runs of each tool (default: 3)
  --skip-strace     leave out the system-call counts
  --copy-only       leave out the no-op re-runs
  --seed S, --image PATH, --mount PATH, --image-size SIZE, --keep-mounted   as npm run bench
  -h, --help        this text`;

/** @param {string} msg */
const log = (msg) => process.stderr.write(`${msg}\n`);

/**
 * @typedef {{wallSeconds: number, total: number, parent: number, children: number,
 *            processes: number, exitCode: number | null, stderr: string}} CpuRun
 *   CPU in seconds; processes: the tool and the descendants seen
 */

/** @param {number} pid @returns {{self: number, reaped: number} | null} seconds */
function cpuOf(pid) {
  let stat;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // fields after the command name, which may hold spaces and parentheses: rest[0] is field 3
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const f = (n) => Number(rest[n - 3]) / CLK_TCK;
  return { self: f(14) + f(15), reaped: f(16) + f(17) };
}

/**
 * One run of argv under bash's `times`, sampling the process tree's CPU.
 * @param {string[]} argv @returns {Promise<CpuRun>}
 */
async function measureCpu(argv) {
  const start = process.hrtime.bigint();
  const bash = spawn('bash', ['-c', '"$@" > /dev/null; status=$?; times; exit $status', 'bash', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = new Tail();
  const err = new Tail();
  bash.stdout.on('data', (c) => out.push(c));
  bash.stderr.on('data', (c) => err.push(c));
  /** @type {Map<number, number>} pid → last own CPU of each descendant of the tool */
  const lastSelf = new Map();
  let toolReaped = 0;
  const sample = () => {
    if (!bash.pid) return;
    const [, tool] = processTree(bash.pid);
    if (tool === undefined) return;
    const tree = processTree(tool);
    const own = cpuOf(tool);
    if (own) toolReaped = own.reaped;
    for (const pid of tree.slice(1)) {
      const c = cpuOf(pid);
      if (c) lastSelf.set(pid, c.self); // not what it reaped: that child is in the tree too
    }
  };
  const timer = setInterval(sample, SAMPLE_MS);
  const exitCode = await new Promise((resolve) => bash.on('close', resolve));
  clearInterval(timer);
  const wallSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  // `times`: "0m0.001s 0m0.002s" (bash itself), then the same for its children
  const lines = out.text().trim().split('\n');
  const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(lines[lines.length - 1] ?? '');
  const total = m ? Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) : NaN;
  let sumChildren = 0;
  for (const v of lastSelf.values()) sumChildren += v;
  const children = Math.min(total, Math.max(toolReaped, sumChildren));
  return { wallSeconds, total, parent: total - children, children, processes: 1 + lastSelf.size, exitCode: /** @type {number | null} */ (exitCode), stderr: err.text() };
}

/**
 * System calls of one run under `strace -f -c`: the total and the count of each.
 * @param {string[]} argv @param {string} scratch
 * @returns {Promise<{total: number, calls: Map<string, number>}>}
 */
async function countSyscalls(argv, scratch) {
  const file = path.join(scratch, 'strace.txt');
  await runAsync('strace', ['-f', '-c', '-o', file, '--', ...argv]);
  const text = fs.readFileSync(file, 'utf8');
  fs.rmSync(file, { force: true });
  /** @type {Map<string, number>} */
  const calls = new Map();
  let total = NaN;
  for (const line of text.split('\n')) {
    // % time, seconds, usecs/call, calls, [errors], name
    const cells = line.trim().split(/\s+/);
    if (cells.length < 5 || !/^\d+\.\d+$/.test(cells[0] ?? '')) continue;
    const name = /** @type {string} */ (cells[cells.length - 1]);
    if (name === 'total') total = Number(cells[3]);
    else calls.set(name, Number(cells[3]));
  }
  return { total, calls };
}

/** The calls the tree adds over the one-file tree, most frequent first, per file. */
function topPerFile(tree, one, files) {
  return [...tree].map(([name, n]) => /** @type {[string, number]} */ ([name, (n - (one.get(name) ?? 0)) / files]))
    .filter(([, n]) => n >= 0.05).sort((a, b) => b[1] - a[1]).slice(0, 6)
    .map(([name, n]) => `${name} ${n.toFixed(1)}`).join(', ');
}

async function readTree(dir) {
  await runAsync('sh', ['-c', 'tar -C "$1" -cf - . | cat > /dev/null', 'sh', dir]);
}

/** @type {import('./mount.mjs').Workspace | null} */
let workspace = null;
let keepMounted = false;

async function main() {
  const { values } = parseArgs({
    options: {
      corpus: { type: 'string', default: 'mixed' },
      source: { type: 'string' },
      dir: { type: 'string' },
      runs: { type: 'string', default: '3' },
      seed: { type: 'string', default: '1' },
      image: { type: 'string', default: '/var/tmp/foldercopy-bench.img' },
      'image-size': { type: 'string', default: '16G' },
      mount: { type: 'string', default: '/mnt/foldercopy-bench' },
      'keep-mounted': { type: 'boolean', default: false },
      'skip-strace': { type: 'boolean', default: false },
      'copy-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new BenchError(`--runs must be an integer ≥ 1, got "${values.runs}"`);
  keepMounted = values['keep-mounted'] ?? false;
  const strace = !values['skip-strace'];
  if (strace && !hasTool('strace')) throw new BenchError('strace not found: apt-get install strace, or pass --skip-strace');
  for (const tool of ['cp', 'rsync', 'bash', 'tar']) if (!hasTool(tool)) throw new BenchError(`${tool} not found`);
  const script = path.join(REPO, 'bin', 'foldercopy.js');
  if (!fs.existsSync(path.join(REPO, 'dist'))) throw new BenchError('dist/ not found: run `npm run build` first');

  if (values.source && !values.dir) throw new BenchError('--source needs --dir: where the copies go');
  workspace = setupWorkspace({ dir: values.dir, image: /** @type {string} */ (values.image), mount: /** @type {string} */ (values.mount), imageSize: /** @type {string} */ (values['image-size']) }, log);
  const root = workspace.root;
  let source;
  let stats;
  if (values.source) {
    source = path.resolve(values.source);
    stats = await treeStats(source);
  } else {
    const corpus = await ensureCorpus(/** @type {string} */ (values.corpus), { root, seed: /** @type {string} */ (values.seed), hugeFiles: 1_000_000, log: (m) => log(`  ${m}`) });
    source = corpus.dir;
    stats = corpus.stats;
  }
  const scratch = path.join(root, 'runs', 'budget');
  await runAsync('rm', ['-rf', '--', scratch]);
  const one = path.join(scratch, 'one-file');
  fs.mkdirSync(one, { recursive: true });
  fs.writeFileSync(path.join(one, 'file'), 'x');

  /** @type {{name: string, argv: (s: string, d: string) => string[], noop: boolean}[]} */
  const cases = [
    { name: 'foldercopy', argv: (s, d) => [process.execPath, script, '-q', s, d], noop: false },
    { name: 'cp -a', argv: (s, d) => ['cp', '-a', `${s}/.`, d], noop: false },
    { name: 'rsync -a', argv: (s, d) => ['rsync', '-a', `${s}/`, `${d}/`], noop: false },
  ];
  if (!values['copy-only']) {
    cases.push({ ...cases[0], name: 'foldercopy no-op', noop: true }, { ...cases[2], name: 'rsync -a no-op', noop: true });
  }
  log(`budget: ${describeStats(stats)} (${source}); ${runs} runs of each, alternating`);

  /** @type {Map<string, {tree: CpuRun[], one: CpuRun[], syscalls?: {tree: any, one: any}}>} */
  const results = new Map(cases.map((c) => [c.name, { tree: [], one: [] }]));
  /** @param {typeof cases[number]} c @param {string} src @param {string} tag */
  const prepare = async (c, src, tag) => {
    const dest = path.join(scratch, `${c.name.replace(/\W+/g, '')}-${tag}`);
    if (c.noop) {
      // its own up-to-date copy, made once
      if (!fs.existsSync(dest)) await runAsync(c.argv(src, dest)[0] ?? '', c.argv(src, dest).slice(1));
    } else {
      await runAsync('rm', ['-rf', '--', dest]);
    }
    await readTree(src);
    await runAsync('sync', []);
    return dest;
  };
  for (let run = 1; run <= runs; run++) {
    for (const c of cases) {
      for (const [tag, src] of /** @type {const} */ ([['tree', source], ['one', one]])) {
        const dest = await prepare(c, src, tag);
        const r = await measureCpu(c.argv(src, dest));
        if (r.exitCode !== 0) throw new BenchError(`${c.name} failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').pop()}`);
        results.get(c.name)?.[tag].push(r);
        log(`  run ${run}/${runs}  ${c.name.padEnd(17)} ${tag === 'tree' ? 'tree    ' : 'one file'}  CPU ${r.total.toFixed(3)} s (parent ${r.parent.toFixed(3)}, children ${r.children.toFixed(3)})`);
      }
    }
  }
  if (strace) {
    for (const c of cases) {
      /** @type {any} */
      const counts = {};
      for (const [tag, src] of /** @type {const} */ ([['tree', source], ['one', one]])) {
        const dest = await prepare(c, src, tag);
        counts[tag] = await countSyscalls(c.argv(src, dest), scratch);
      }
      const entry = results.get(c.name);
      if (entry) entry.syscalls = counts;
      log(`  strace  ${c.name.padEnd(17)} ${counts.tree.total} calls on the tree, ${counts.one.total} on one file`);
    }
  }
  await runAsync('rm', ['-rf', '--', scratch]);

  const files = Math.max(1, stats.files - 1);
  const us = (tree, oneFile) => `${(((tree - oneFile) / files) * 1e6).toFixed(1)}`;
  const header = ['', 'fixed CPU', 'CPU/file', 'parent/file', 'children/file', 'processes', 'syscalls/file', 'most frequent calls per file'];
  const body = [];
  for (const c of cases) {
    const r = /** @type {{tree: CpuRun[], one: CpuRun[], syscalls?: any}} */ (results.get(c.name));
    const med = (rs, key) => median(rs.map((x) => x[key]));
    const sc = r.syscalls;
    body.push([
      c.name,
      `${(med(r.one, 'total') * 1000).toFixed(0)} ms`,
      `${us(med(r.tree, 'total'), med(r.one, 'total'))} µs`,
      `${us(med(r.tree, 'parent'), med(r.one, 'parent'))} µs`,
      `${us(med(r.tree, 'children'), med(r.one, 'children'))} µs`,
      String(Math.max(...r.tree.map((x) => x.processes))),
      sc ? ((sc.tree.total - sc.one.total) / files).toFixed(1) : '—',
      sc ? topPerFile(sc.tree.calls, sc.one.calls, files) : '',
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells) => cells.map((c, i) => c.padEnd(/** @type {number} */ (widths[i]))).join('  ').trimEnd();
  console.log(`per-file budget: ${describeStats(stats)}; medians of ${runs} runs, ${os.availableParallelism()} CPUs`);
  console.log('per file = (tree − one-file tree) / files; fixed CPU = the one-file tree; children = workers (foldercopy), rsync\'s receiver side');
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of body) console.log(line(row));
  return 0;
}

function finish() {
  teardownWorkspace(workspace, { keepMounted }, log);
}
process.on('SIGINT', () => {
  killHelpers(); // the tool itself gets the terminal's SIGINT too
  finish();
  process.exit(130);
});

main().then(
  (code) => {
    finish();
    process.exitCode = code;
  },
  (error) => {
    log(`budget: ${error instanceof BenchError ? error.message : error?.stack ?? error}`);
    finish();
    process.exitCode = 1;
  },
);
