#!/usr/bin/env node
// `npm run bench`: times foldercopy against cp -a (and rsync -a, node -e 0) in
// rows of alternating pairs: generated corpora and a real node_modules on a
// filesystem fit for timing, start-up, no-op re-runs, a mount with a delay per
// request, btrfs and XFS; checks every tool's copy. See bench/README.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeStats, ensureCorpus, treeStats } from './corpus.mjs';
import { checkLatencyPrerequisites, startLatencyMount, stopAllLatencyMounts, stopLatencyMount } from './latency.mjs';
import { killActive, runMeasured } from './measure.mjs';
import { MKFS_PACKAGE, mountImage, setupWorkspace, siblingImage, teardownWorkspace } from './mount.mjs';
import { BenchError, errorLine, hasTool, killHelpers, runAsync } from './proc.mjs';
import { TARGETS, evaluateTargets, formatTable, machineInfo, mb, summarize } from './report.mjs';
import { clonedFiles, verifyCopy } from './verify.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(HERE);

/**
 * Every row --corpus can name, in the order they run: the quick ones first, so
 * a broken tool shows up within seconds. A row is a source tree, a set of tools
 * timed in alternating pairs, and what foldercopy is compared with.
 */
const ROW_NAMES = /** @type {const} */ ([
  'tiny', 'startup', 'small', 'noop-small', 'mixed', 'noop-mixed', 'snapshot-mixed', 'large', 'huge',
  'parts-small', 'parts-mixed', 'latency-500', 'latency-2000', 'latency-parts', 'btrfs-mixed', 'btrfs-large2', 'xfs-mixed', 'xfs-large2',
]);
/** @typedef {typeof ROW_NAMES[number]} RowName */
/** @type {Record<string, RowName[]>} */
const ALIASES = {
  noop: ['noop-small', 'noop-mixed'],
  latency: ['latency-500', 'latency-2000', 'latency-parts'],
  parts: ['parts-small', 'parts-mixed', 'latency-parts'],
  btrfs: ['btrfs-mixed', 'btrfs-large2'],
  xfs: ['xfs-mixed', 'xfs-large2'],
};
ALIASES.all = ROW_NAMES.filter((n) => n !== 'huge');
// The rows on the ext4 image: about 10–15 minutes here. The latency, btrfs and XFS
// rows add about as much again, so they run on request (--corpus all, or by name).
const DEFAULT_ROWS = ['tiny', 'startup', 'small', 'noop', 'mixed', 'snapshot-mixed', 'large'];
/** The corpus each row copies (built on the ext4 image unless the row's filesystem is another). */
const ROW_CORPUS = /** @type {Record<RowName, string>} */ ({
  tiny: 'tiny', startup: 'demo', small: 'small', 'noop-small': 'small', mixed: 'mixed', 'noop-mixed': 'mixed', 'snapshot-mixed': 'mixed',
  large: 'large', huge: 'huge', 'parts-small': 'small', 'parts-mixed': 'mixed',
  'latency-500': 'spread500', 'latency-2000': 'spread2000', 'latency-parts': 'spread2000',
  'btrfs-mixed': 'mixed', 'btrfs-large2': 'large2', 'xfs-mixed': 'mixed', 'xfs-large2': 'large2',
});
/** @param {string} row @returns {'ext4' | 'btrfs' | 'xfs'} the filesystem the row's source and copies are on */
const rowFs = (row) => (row.startsWith('btrfs-') ? 'btrfs' : row.startsWith('xfs-') ? 'xfs' : 'ext4');
const DEMO = path.join(REPO, 'fixtures', 'demo');
/** The planned-copy rows: parts in the plan, tasks at once, and on the latency mount each part's -j. */
const PARTS = { parts: 8, tasks: 2, latencyTasks: [1, 2, 4, 8], jobsOnMount: 2 };
const PARTS_SH = path.join(REPO, 'bench', 'parts.sh');

/**
 * A planned copy (bench/parts.sh), `tasks` parts at once under GNU parallel; `partArgs` go to each part.
 * @param {number} tasks @param {string[]} partArgs @returns {Tool}
 */
function partsTool(tasks, partArgs) {
  return { name: `${PARTS.parts} parts, ${tasks} at once`, argv: (s, d) => [PARTS_SH, String(PARTS.parts), String(tasks), partArgs.join(' '), s, d] };
}

const HELP = `Usage: npm run bench -- [options]     (or: node bench/run.mjs [options])

Times foldercopy against cp -a (and rsync -a when installed) in alternating
pairs on generated corpora, on a loop-mounted journaled ext4 image, and checks
each tool's copy with rsync. Needs root for the images, or --dir.

Rows (--corpus; targets for foldercopy in brackets):
  tiny          10 files: start-to-exit [median ≤ ${TARGETS.tinyLatencySeconds} s]
  startup       fixtures/demo (107 files) against node -e 0 [≤ ${TARGETS.startupVsNode}×] and cp -a
  small         50,000 generated files [≤ ${TARGETS.ratio.small.max}× cp -a]
  mixed         a real node_modules, 32,000 files [≤ ${TARGETS.ratio.mixed.max}× cp -a]
  large         4 × 512 MiB [≤ ${TARGETS.ratio.large.max}× cp -a]
  huge          1,000,000 files (--huge-files N), memory [≤ ${TARGETS.peakMemoryMB.huge} MB]
  noop-small    a no-op re-run over an up-to-date copy of small, against rsync -a's own
                [≤ ${TARGETS.noopVsRsync['noop-small'].toFixed(1)}× rsync -a; with small: ≥ ${TARGETS.noopSpeedup}× faster than the copy]
  noop-mixed    the same over mixed [≤ ${TARGETS.noopVsRsync['noop-mixed'].toFixed(1)}× rsync -a]
  snapshot-mixed  a snapshot of mixed against an unchanged one, every file linked: foldercopy
                --snapshot against rsync -a --link-dest [≤ ${TARGETS.snapshotVsRsync['snapshot-mixed'].toFixed(1)}×]
  latency-500   500 files in 50 dirs copied onto a FUSE mount adding --latency-ms per
                request, foldercopy -j 2, 8, 16 against cp -a [-j 16 ≥ ${TARGETS.latency.speedup}× faster]
  latency-2000  the same with 2,000 files in 100 dirs
  parts-small   small as a planned copy: plan, ${PARTS.parts} parts under GNU parallel -j ${PARTS.tasks}, finalize and
                check, against one ordinary run [≤ ${TARGETS.parts.overhead.toFixed(2)}×]
  parts-mixed   the same over mixed
  latency-parts latency-2000 in ${PARTS.parts} parts, -j ${PARTS.jobsOnMount} each, ${PARTS.latencyTasks.join('/')} at once
                [${Math.max(...PARTS.latencyTasks)} at once ≥ ${TARGETS.parts.latencySpeedup}× faster than 1]
  btrfs-mixed   mixed on a btrfs image [≤ ${TARGETS.ratio['btrfs-mixed'].max}× cp -a]
  btrfs-large2  2 × 512 MiB on btrfs, where cp -a clones [≤ ${TARGETS.clone.factor}× cp -a + start-up]
  xfs-mixed, xfs-large2   the same on an XFS image
  aliases: noop = noop-small,noop-mixed; latency = latency-500,latency-2000,latency-parts;
           parts = parts-small,parts-mixed,latency-parts;
           btrfs = btrfs-mixed,btrfs-large2; xfs = xfs-mixed,xfs-large2;
           all = every row but huge

Options:
  --corpus LIST       comma-separated rows (default: ${DEFAULT_ROWS.join(',')})
  --pairs N           timed pairs per row, after one warm-up run per tool (default: 5)
  --seed S            seed of the generated corpora (default: 1)
  --huge-files N      add the huge corpus with N files (default 1000000 with --corpus huge)
  --dir PATH          bench in this directory instead of a loop image (no root needed;
                      not for the latency, btrfs and xfs rows)
  --image PATH        ext4 image file, created if missing (default: /var/tmp/foldercopy-bench.img);
                      the btrfs and XFS images go beside it (foldercopy-bench-btrfs.img, …)
  --image-size SIZE   size of a new sparse ext4 image (default: 16G)
  --fs-image-size SIZE  size of a new sparse btrfs or XFS image (default: 8G)
  --mount PATH        where to mount the image (default: /mnt/foldercopy-bench; the
                      others on PATH-btrfs, PATH-xfs, and the latency mount on PATH-latency)
  --keep-mounted      leave the images mounted at the end (never the latency mount)
  --latency-ms MS     delay per request of the latency mount (default: 1)
  --latency-jobs LIST foldercopy's -j values on the latency rows (default: 2,8,16)
  --fc-args "ARGS"    extra arguments for foldercopy, split on spaces (e.g. "-j 2")
  --skip-rsync        leave rsync -a out of the copy rotation (it is still used to
                      verify, and the noop rows always pair with it)
  --timeout SECONDS   kill a run that takes longer (default: 900)
  --json PATH         where to write the results (default: bench/results/<timestamp>.json)
  --strict            exit 3 when a target FAILs
  -h, --help          this text

Environment:
  FOLDERCOPY_BIN      an executable taking <src> <dest> to time instead of
                      node bin/foldercopy.js (e.g. bench/fake-foldercopy.sh)

Needs cp, rsync, tar, sync; as root mount, losetup, findmnt, mkfs.ext4; for the
btrfs and xfs rows mkfs.btrfs and mkfs.xfs (apt-get install btrfs-progs xfsprogs);
for the latency rows python3 with fusepy (apt-get install python3-fusepy fuse3).

Exit status: 0 done; 1 the bench could not run (or was interrupted);
2 a run failed or a copy differs from its source; 3 a target failed (--strict).`;

/** @param {string} msg */
const log = (msg) => process.stderr.write(`${msg}\n`);

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        corpus: { type: 'string' },
        pairs: { type: 'string', default: '5' },
        seed: { type: 'string', default: '1' },
        'huge-files': { type: 'string' },
        dir: { type: 'string' },
        image: { type: 'string', default: '/var/tmp/foldercopy-bench.img' },
        'image-size': { type: 'string', default: '16G' },
        mount: { type: 'string', default: '/mnt/foldercopy-bench' },
        'fs-image-size': { type: 'string', default: '8G' },
        'keep-mounted': { type: 'boolean', default: false },
        'latency-ms': { type: 'string', default: '1' },
        'latency-jobs': { type: 'string', default: '2,8,16' },
        'fc-args': { type: 'string', default: '' },
        'skip-rsync': { type: 'boolean', default: false },
        timeout: { type: 'string', default: '900' },
        json: { type: 'string' },
        strict: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new BenchError(`${/** @type {Error} */ (error).message} (see --help)`);
  }
  const int = (name, value, min) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new BenchError(`--${name} must be an integer ≥ ${min}, got "${value}"`);
    return n;
  };
  const asked = (values.corpus ?? DEFAULT_ROWS.join(',')).split(',').map((x) => x.trim()).filter(Boolean);
  /** @type {RowName[]} */
  const rows = [];
  for (const name of asked) {
    if (ALIASES[name]) rows.push(...ALIASES[name]);
    else if (ROW_NAMES.includes(/** @type {any} */ (name))) rows.push(/** @type {RowName} */ (name));
    else throw new BenchError(`unknown row "${name}" (choose from ${ROW_NAMES.join(', ')}, or ${Object.keys(ALIASES).join(', ')})`);
  }
  if (values['huge-files'] !== undefined && !rows.includes('huge')) rows.push('huge');
  rows.sort((a, b) => ROW_NAMES.indexOf(a) - ROW_NAMES.indexOf(b));
  const latencyMs = Number(values['latency-ms']);
  if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new BenchError(`--latency-ms must be a number ≥ 0, got "${values['latency-ms']}"`);
  const latencyJobs = (values['latency-jobs'] ?? '').split(',').map((x) => int('latency-jobs', x.trim(), 1));
  return {
    help: values.help ?? false,
    corpora: [...new Set(rows)],
    pairs: int('pairs', values.pairs, 1),
    seed: /** @type {string} */ (values.seed),
    hugeFiles: int('huge-files', values['huge-files'] ?? '1000000', 1),
    dir: values.dir,
    image: /** @type {string} */ (values.image),
    imageSize: /** @type {string} */ (values['image-size']),
    mount: /** @type {string} */ (values.mount),
    fsImageSize: /** @type {string} */ (values['fs-image-size']),
    keepMounted: values['keep-mounted'] ?? false,
    latencyMs,
    latencyJobs: [...new Set(latencyJobs)],
    fcArgs: (values['fc-args'] ?? '').split(/\s+/).filter(Boolean),
    skipRsync: values['skip-rsync'] ?? false,
    timeoutMs: int('timeout', values.timeout, 1) * 1000,
    json: values.json,
    strict: values.strict ?? false,
    explicitRows: values.corpus !== undefined,
  };
}

/** @typedef {ReturnType<typeof parseOptions>} Options */
/**
 * @typedef {{name: string, argv: (src: string, dest: string) => string[], verify?: boolean, emptySource?: boolean}} Tool
 *   verify: false for a tool that copies nothing (node -e 0); emptySource: it copies an empty folder
 *   instead of the row's source (foldercopy's start-up, on the row's filesystem)
 * @typedef {{name: RowName, kind: 'copy' | 'noop' | 'snapshot', fs: string, note: string, corpus: import('./corpus.mjs').Corpus,
 *            tools: Tool[], compare: string[], runsDir: string, backingDir: string,
 *            budget?: import('./report.mjs').Budget}} Row
 *   runsDir: where the tools write; backingDir: the same directory without the latency mount
 *   in between, to delete and verify copies at the speed of the disk
 */

/**
 * foldercopy's command line, with extra arguments (e.g. -j 16) after --fc-args.
 * @param {Options} opts @returns {{argv: (extra: string[]) => Tool['argv'], description: string}}
 */
function foldercopyCommand(opts) {
  const fromEnv = process.env.FOLDERCOPY_BIN;
  if (fromEnv) {
    const bin = path.resolve(fromEnv);
    try {
      fs.accessSync(bin, fs.constants.X_OK);
    } catch {
      throw new BenchError(`FOLDERCOPY_BIN=${fromEnv} is not an executable file`);
    }
    return { argv: (extra) => (s, d) => [bin, ...opts.fcArgs, ...extra, s, d], description: `${bin} (FOLDERCOPY_BIN)` };
  }
  const script = path.join(REPO, 'bin', 'foldercopy.js');
  if (!fs.existsSync(script)) {
    throw new BenchError(`${path.relative(process.cwd(), script) || script} not found: write/build foldercopy, or set FOLDERCOPY_BIN to an executable taking <src> <dest> (e.g. bench/fake-foldercopy.sh)`);
  }
  if (!fs.existsSync(path.join(REPO, 'dist'))) throw new BenchError('dist/ not found: run `npm run build` first');
  return { argv: (extra) => (s, d) => [process.execPath, script, ...opts.fcArgs, ...extra, s, d], description: `node ${script}` };
}

let aborted = false;
/** @type {import('./mount.mjs').Workspace | null} */
let workspace = null;
/** The btrfs and XFS images, mounted when a row needs them. @type {Map<string, import('./mount.mjs').Workspace>} */
const fsWorkspaces = new Map();
/** @type {import('./latency.mjs').LatencyMount | null} */
let latencyMount = null;
/** @type {any} */
let results = null;
/** @type {Options | null} */
let options = null;

function checkAborted() {
  if (aborted) throw new BenchError('interrupted');
}

/** Everything mounted, in reverse order: the latency mount sits on the ext4 image. Synchronous, for exit paths. */
function teardownAll() {
  stopAllLatencyMounts(log); // latencyMount, or one still starting
  latencyMount = null;
  const keep = { keepMounted: options?.keepMounted ?? false };
  for (const ws of fsWorkspaces.values()) teardownWorkspace(ws, keep, log);
  teardownWorkspace(workspace, keep, log);
}

/** Read every byte of the source so the timed run starts from a warm cache.
 *  Through a pipe: GNU tar skips reading file data when its output is /dev/null. */
async function readTree(dir) {
  await runAsync('sh', ['-c', 'tar -C "$1" -cf - . | cat > /dev/null', 'sh', dir]);
}

/**
 * The tools, comparisons and directories of one row.
 * @param {RowName} name @param {import('./corpus.mjs').Corpus} corpus @param {string} root the row's filesystem
 * @param {(extra: string[]) => Tool['argv']} fc @param {Options} opts
 * @returns {Row}
 */
function makeRow(name, corpus, root, fc, opts) {
  /** @type {Tool} */
  const foldercopy = { name: 'foldercopy', argv: fc([]) };
  /** @type {Tool} */
  const cp = { name: 'cp -a', argv: (s, d) => ['cp', '-a', `${s}/.`, d] };
  /** @type {Tool} */
  const rsync = { name: 'rsync -a', argv: (s, d) => ['rsync', '-a', `${s}/`, `${d}/`] };
  const runsDir = path.join(root, 'runs', name);
  /** @type {Row} */
  const row = { name, kind: 'copy', fs: rowFs(name), note: '', corpus, tools: [foldercopy, cp], compare: ['cp -a'], runsDir, backingDir: runsDir };
  if (name === 'startup') {
    // the same node binary and environment as foldercopy's (NODE_EXTRA_CA_CERTS included)
    const node = { name: 'node -e 0', argv: () => [process.execPath, '-e', '0'], verify: false };
    return { ...row, note: 'fixtures/demo, start to exit', tools: [foldercopy, node, cp], compare: ['node -e 0', 'cp -a'] };
  }
  if (name === 'noop-small' || name === 'noop-mixed') {
    return { ...row, kind: 'noop', note: 'each tool again over its own up-to-date copy (no-op)', tools: [foldercopy, rsync], compare: ['rsync -a'] };
  }
  if (name === 'snapshot-mixed') {
    // Each into a directory of its own (noopDest), made once untimed; then each timed run is a new snapshot
    // of the unchanged source against that first one: foldercopy's newest, rsync's `base` (see resetSnapshots).
    const snapshot = { name: 'foldercopy --snapshot', argv: fc(['--snapshot']) };
    const linkDest = { name: 'rsync -a --link-dest', argv: (s, d) => ['rsync', '-a', `--link-dest=${d}/base`, `${s}/`, `${d}/new/`] };
    return { ...row, kind: 'snapshot', note: 'a new snapshot of an unchanged source: every file linked', tools: [snapshot, linkDest], compare: [linkDest.name] };
  }
  if (name === 'parts-small' || name === 'parts-mixed') {
    // As the README advises for several parts on one machine: each part the cores' share as its -j.
    const parts = partsTool(PARTS.tasks, ['-j', String(Math.max(1, Math.floor(os.availableParallelism() / PARTS.tasks)))]);
    return { ...row, note: 'a planned copy against one ordinary run', tools: [parts, foldercopy], compare: [foldercopy.name] };
  }
  if (name === 'latency-parts') {
    const lm = /** @type {import('./latency.mjs').LatencyMount} */ (latencyMount);
    const tools = PARTS.latencyTasks.map((n) => partsTool(n, ['-j', String(PARTS.jobsOnMount)]));
    return {
      ...row, fs: 'latencyfs', note: `onto latencyfs (${opts.latencyMs} ms per request): parts at once`, tools: [...tools, cp],
      compare: [tools[0].name, 'cp -a'], runsDir: path.join(lm.mount, 'runs', name), backingDir: path.join(lm.backing, 'runs', name),
    };
  }
  if (name.startsWith('latency-')) {
    const lm = /** @type {import('./latency.mjs').LatencyMount} */ (latencyMount);
    const jobs = opts.latencyJobs.map((j) => ({ name: `foldercopy -j ${j}`, argv: fc(['-j', String(j)]) }));
    return {
      ...row, fs: 'latencyfs', note: `onto latencyfs (${opts.latencyMs} ms per request) over ext4`, tools: [...jobs, cp],
      runsDir: path.join(lm.mount, 'runs', name), backingDir: path.join(lm.backing, 'runs', name),
    };
  }
  if (name.endsWith('-large2')) {
    const empty = { name: 'foldercopy, empty folder', argv: fc([]), emptySource: true, verify: false };
    return {
      ...row, note: `on ${row.fs}, where cp -a clones`, tools: [foldercopy, cp, empty],
      budget: { tool: 'foldercopy', factor: TARGETS.clone.factor, of: 'cp -a', plus: empty.name },
    };
  }
  if (row.fs !== 'ext4') return { ...row, note: `on ${row.fs}` };
  return opts.skipRsync ? row : { ...row, tools: [foldercopy, cp, rsync] };
}

/**
 * Warm-up of each tool, then `pairs` rounds of every tool in turn. A copy row
 * gives each run a fresh destination; the previous one is deleted, the source
 * re-read and everything synced before the clock starts, so no run pays for
 * another's writeback. A no-op row first lets each tool copy the source once,
 * untimed, then times it again and again over that up-to-date copy, prepared
 * the same way. The first good timed copy of each tool is verified.
 * @param {Row} row @param {Options} opts
 */
async function benchRow(row, opts) {
  const { corpus } = row;
  const backing = (/** @type {string} */ p) => path.join(row.backingDir, path.relative(row.runsDir, p));
  await runAsync('rm', ['-rf', '--', row.backingDir]);
  fs.mkdirSync(row.backingDir, { recursive: true });
  const emptySource = path.join(row.runsDir, 'empty-source');
  if (row.tools.some((t) => t.emptySource)) fs.mkdirSync(backing(emptySource));
  const record = {
    name: row.name, kind: row.kind, fs: row.fs, note: row.note, corpus: corpus.name, key: corpus.key, source: corpus.dir,
    stats: corpus.stats, reused: corpus.reused, generateSeconds: corpus.generateSeconds, inputs: corpus.inputs, pairs: opts.pairs,
    tools: row.tools.map((t) => t.name), compare: row.compare,
    verified: row.tools.filter((t) => t.verify !== false && !t.emptySource).map((t) => t.name), budget: row.budget,
    runs: /** @type {any[]} */ ([]), verification: /** @type {Record<string, any>} */ ({}),
  };
  results.corpora.push(record);
  const broken = new Set();
  let seq = 0;
  /** @type {string | null} */
  let previous = null;
  const slug = (/** @type {Tool} */ tool) => tool.name.replace(/\W+/g, '');
  const noopDest = (/** @type {Tool} */ tool) => path.join(row.runsDir, `${slug(tool)}-noop`);

  const once = async (tool, kind, pair) => {
    checkAborted();
    let dest = noopDest(tool);
    if (row.kind === 'copy') {
      dest = path.join(row.runsDir, `${slug(tool)}-${++seq}`);
      if (previous) await runAsync('rm', ['-rf', '--', backing(previous)]);
      previous = dest;
    }
    // rsync makes the destination's last component only
    if (row.kind === 'snapshot') fs.mkdirSync(backing(dest), { recursive: true });
    if (row.kind === 'snapshot' && kind !== 'setup') await resetSnapshots(backing(dest));
    await readTree(corpus.dir);
    await runAsync('sync', []);
    checkAborted();
    const m = await runMeasured(tool.argv(tool.emptySource ? emptySource : corpus.dir, dest), { timeoutMs: opts.timeoutMs });
    const ok = m.exitCode === 0 && !m.timedOut && !m.spawnError;
    const run = {
      tool: tool.name, kind, pair, dest, ok, wallSeconds: m.wallSeconds, peakRssBytes: m.peakRssBytes,
      peakProcesses: m.peakProcesses, exitCode: m.exitCode, signal: m.signal, timedOut: m.timedOut,
      spawnError: m.spawnError, strayProcesses: m.strayProcesses, samples: m.samples, sampleMicros: m.sampleMicros,
      ...(ok ? {} : { stderrTail: m.stderr.slice(-4000), stdoutTail: m.stdout.slice(-1000) }),
    };
    // a no-op row's first copies are untimed; only a failed one is kept, so that it counts as a failure
    if (kind !== 'setup' || !ok) record.runs.push(run);
    const label = kind === 'warmup' ? 'warm-up  ' : kind === 'setup' ? 'first copy' : `pair ${pair}/${opts.pairs}`;
    if (aborted) return;
    const what = ok
      ? `${m.wallSeconds.toFixed(3)} s  ${mb(m.peakRssBytes)}`
      : `FAILED (${m.timedOut ? 'timed out' : m.spawnError ?? `exit ${m.exitCode ?? m.signal}`}): ${errorLine(m.stderr) || '(no stderr)'}`;
    log(`  [${row.name}] ${label}  ${tool.name.padEnd(10)}  ${what}${m.strayProcesses ? '  (left processes running: killed)' : ''}`);
    if (!aborted && ok && kind === 'timed' && tool.verify !== false && !tool.emptySource && !record.verification[tool.name]) {
      /** @type {any} */
      const copy = row.kind === 'snapshot' ? newestSnapshot(backing(dest)) : backing(dest);
      const v = await verifyCopy(corpus.dir, copy);
      if (row.kind === 'snapshot') v.unlinkedFiles = await unlinkedFiles(copy);
      if (row.budget) v.cloned = clonedFiles(backing(dest)); // the rows where cp -a clones: did this tool?
      record.verification[tool.name] = v;
      if (!v.identical) log(`  [${row.name}] ${tool.name}: copy differs in ${v.differences} entries, e.g. ${v.first.slice(0, 3).join(' | ')}`);
      else if (!v.nsExact) log(`  [${row.name}] ${tool.name}: identical, but ${v.nsDifferences} entries have mtimes off by < 1 s`);
      if (v.unlinkedFiles) log(`  [${row.name}] ${tool.name}: ${v.unlinkedFiles} files of the snapshot are not hard links to the one before`);
    }
    if (!ok && kind !== 'timed') broken.add(tool.name);
  };

  log(`\n${row.name}: ${describeStats(corpus.stats)}, ${row.note || `on ${row.fs}`}${corpus.reused ? ' (cached)' : ''}`);
  if (row.kind !== 'copy') for (const tool of row.tools) await once(tool, 'setup', 0);
  for (const tool of row.tools) if (!broken.has(tool.name)) await once(tool, 'warmup', 0);
  for (const name of broken) log(`  [${row.name}] ${name} failed its ${row.kind === 'noop' ? 'first copy or ' : ''}warm-up: skipping its timed runs`);
  for (let pair = 1; pair <= opts.pairs; pair++) {
    for (const tool of row.tools) if (!broken.has(tool.name)) await once(tool, 'timed', pair);
  }
  await runAsync('rm', ['-rf', '--', row.backingDir]);
  return record;
}

/**
 * Before each run of the snapshot row, the directory of snapshots holds the first one only: foldercopy's
 * oldest dated snapshot (the rest removed; latest is swapped by the run), rsync's `base` (its first copy,
 * `new`, becomes `base`; a later `new` is removed). Untimed.
 * @param {string} dir
 */
async function resetSnapshots(dir) {
  const names = fs.readdirSync(dir);
  if (names.includes('new')) {
    if (names.includes('base')) await runAsync('rm', ['-rf', '--', path.join(dir, 'new')]);
    else fs.renameSync(path.join(dir, 'new'), path.join(dir, 'base'));
  }
  const dated = names.filter((n) => /^\d{4}-\d\d-\d\dT\d{6}Z/.test(n)).sort();
  for (const name of dated.slice(1)) await runAsync('rm', ['-rf', '--', path.join(dir, name)]);
}

/** The copy a snapshot run made: rsync's `new`, or the newest of foldercopy's dated snapshots. @param {string} dir */
function newestSnapshot(dir) {
  const names = fs.readdirSync(dir);
  if (names.includes('new')) return path.join(dir, 'new');
  return path.join(dir, names.filter((n) => /^\d{4}-\d\d-\d\dT\d{6}Z/.test(n)).sort().at(-1) ?? 'none');
}

/** Regular files of a snapshot that are no hard link (one name only): none, when every file was linked. @param {string} dir */
async function unlinkedFiles(dir) {
  const { stdout } = await runAsync('sh', ['-c', 'find "$1" -type f -links 1 | wc -l', 'sh', dir]);
  return Number(stdout.trim());
}

/** Fails in seconds, not after corpus generation, when the tool cannot copy at all. */
async function preflight(tool, tiny, root) {
  const dest = path.join(root, 'runs', 'preflight');
  await runAsync('rm', ['-rf', '--', dest]);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const m = await runMeasured(tool.argv(tiny.dir, dest), { timeoutMs: 60_000 });
  await runAsync('rm', ['-rf', '--', dest]);
  if (m.exitCode !== 0 || m.timedOut || m.spawnError) {
    const why = m.timedOut ? 'timed out' : m.spawnError ?? `exit ${m.exitCode ?? m.signal}`;
    throw new BenchError(`foldercopy cannot copy a 10-file folder (${why}): ${errorLine(m.stderr) || errorLine(m.stdout) || 'no output'}`);
  }
}

/**
 * fixtures/demo, copied onto the bench filesystem afresh each time (107 files:
 * no cache needed), so that the startup row reads and writes on the same disk as the others.
 * @param {string} root @returns {Promise<import('./corpus.mjs').Corpus>}
 */
async function demoCorpus(root) {
  if (!fs.existsSync(DEMO)) throw new BenchError(`${DEMO} not found: the startup row copies it`);
  const dir = path.join(root, 'corpora', 'demo');
  await runAsync('rm', ['-rf', '--', dir]);
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  await runAsync('cp', ['-a', '--', DEMO, dir]);
  return { name: 'demo', key: 'fixtures', dir, stats: await treeStats(dir), reused: false, generateSeconds: 0, inputs: { name: 'demo', from: DEMO } };
}

function writeResults(jsonPath) {
  fs.mkdirSync(path.dirname(jsonPath), { recursive: true });
  fs.writeFileSync(jsonPath, JSON.stringify(results, null, 2) + '\n');
  return jsonPath;
}

function defaultJsonPath() {
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
  return path.join(HERE, 'results', `${stamp}.json`);
}

/** Rows that make their own filesystems (loop images of btrfs and XFS, a FUSE mount). */
const needsRoot = (/** @type {string} */ name) => name.startsWith('latency-') || rowFs(name) !== 'ext4';

/** Refuses early, before minutes of corpus building, when a row cannot run here. @param {Options} opts */
function checkPrerequisites(opts) {
  if (opts.corpora.some((n) => n.includes('parts')) && !hasTool('parallel')) {
    throw new BenchError('the parts rows need GNU parallel (apt-get install parallel), or leave them out');
  }
  for (const tool of ['cp', 'rsync', 'tar', 'sync', 'rm']) {
    if (!hasTool(tool)) throw new BenchError(`${tool} not found: it is needed to ${tool === 'rsync' ? 'verify copies' : 'run the bench'} (apt-get install ${tool === 'rsync' ? 'rsync' : 'coreutils tar'})`);
  }
  const special = opts.corpora.filter(needsRoot);
  if (special.length && opts.dir) {
    if (opts.explicitRows) throw new BenchError(`${special.join(', ')} make their own filesystems and need root, not --dir: leave them out of --corpus`);
    log(`--dir: leaving out ${special.join(', ')} (they make their own filesystems, as root)`);
    opts.corpora = opts.corpora.filter((n) => !needsRoot(n));
  }
  for (const fsName of new Set(opts.corpora.map(rowFs))) {
    if (fsName !== 'ext4' && !hasTool(`mkfs.${fsName}`)) {
      throw new BenchError(`mkfs.${fsName} not found: the ${fsName} rows need it (apt-get install ${MKFS_PACKAGE[fsName]}), or leave them out of --corpus`);
    }
  }
  return opts.corpora.some((n) => n.startsWith('latency-')) ? checkLatencyPrerequisites() : null;
}

async function main() {
  const opts = (options = parseOptions());
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  const python = checkPrerequisites(opts);
  const fc = foldercopyCommand(opts);
  const jsonPath = path.resolve(opts.json ?? defaultJsonPath());

  workspace = setupWorkspace(opts, log);
  const root = workspace.root;
  results = {
    format: 2, status: 'running', startedAt: new Date().toISOString(), finishedAt: null,
    argv: process.argv.slice(2), options: { ...opts, help: undefined },
    foldercopy: fc.description, rows: opts.corpora,
    machine: machineInfo(),
    filesystem: { root, image: workspace.image, mount: workspace.mount, created: workspace.created, ...workspace.fs },
    filesystems: /** @type {Record<string, any>} */ ({}), latency: null,
    corpora: [], summary: {}, targets: [],
  };
  log(`bench root ${root} (${workspace.fs.fstype}${workspace.fs.journal ? ', journaled' : ''}); foldercopy = ${fc.description}`);
  await runAsync('rm', ['-rf', '--', path.join(root, 'runs')]);

  const corpusOpts = { root, seed: opts.seed, hugeFiles: opts.hugeFiles, log: (m) => log(`  ${m}`) };
  const tiny = await ensureCorpus('tiny', corpusOpts);
  await preflight({ name: 'foldercopy', argv: fc.argv([]) }, tiny, root);

  /** @type {Map<string, import('./corpus.mjs').Corpus>} `${fs}:${corpus}` → corpus */
  const built = new Map([['ext4:tiny', tiny]]);
  /** @param {'ext4' | 'btrfs' | 'xfs'} fsName */
  const fsRoot = (fsName) => {
    if (fsName === 'ext4') return root;
    let ws = fsWorkspaces.get(fsName);
    if (!ws) {
      const where = siblingImage(opts, fsName);
      ws = mountImage({ fstype: fsName, ...where, size: opts.fsImageSize, needFree: 4e9 }, log);
      fsWorkspaces.set(fsName, ws);
      results.filesystems[fsName] = { root: ws.root, image: ws.image, created: ws.created, ...ws.fs };
    }
    return ws.root;
  };
  /** @param {RowName} name */
  const corpusOf = async (name) => {
    const fsName = rowFs(name);
    const corpusName = ROW_CORPUS[name];
    if (corpusName === 'demo') return demoCorpus(root);
    const id = `${fsName}:${corpusName}`;
    let corpus = built.get(id);
    if (!corpus) {
      // mixed elsewhere is copied from the ext4 image's (no second npm ci); large2 is generated in place
      const copyFrom = fsName !== 'ext4' && corpusName === 'mixed' ? (await corpusOf('mixed')).dir : undefined;
      corpus = await ensureCorpus(corpusName, { ...corpusOpts, root: fsRoot(fsName), copyFrom });
      built.set(id, corpus);
    }
    return corpus;
  };
  // build everything before timing anything: generation leaves gigabytes of writeback behind
  /** @type {Map<RowName, import('./corpus.mjs').Corpus>} */
  const corpora = new Map();
  for (const name of opts.corpora) {
    checkAborted();
    corpora.set(name, await corpusOf(name));
  }
  await runAsync('sync', []);

  const latencyBacking = path.join(root, 'latency-backing');
  for (const [i, name] of opts.corpora.entries()) {
    checkAborted();
    if (name.startsWith('latency-') && !latencyMount) {
      await runAsync('rm', ['-rf', '--', latencyBacking]);
      latencyMount = await startLatencyMount({ backing: latencyBacking, mount: `${path.resolve(opts.mount)}-latency`, delayMs: opts.latencyMs, python: /** @type {string} */ (python) }, log);
      results.latency = { mount: latencyMount.mount, backing: latencyMount.backing, delayMs: opts.latencyMs, python };
    }
    const row = makeRow(name, /** @type {import('./corpus.mjs').Corpus} */ (corpora.get(name)), fsRoot(rowFs(name)), fc.argv, opts);
    const record = await benchRow(row, opts);
    results.summary[name] = summarize(record);
    if (latencyMount && !opts.corpora.slice(i + 1).some((n) => n.startsWith('latency-'))) {
      stopLatencyMount(latencyMount, log);
      latencyMount = null;
      await runAsync('rm', ['-rf', '--', latencyBacking]);
    }
  }

  for (const dir of [root, ...[...fsWorkspaces.values()].map((ws) => ws.root)]) await runAsync('rm', ['-rf', '--', path.join(dir, 'runs')]);
  log('');
  for (const record of results.corpora) {
    console.log(formatTable(record, results.summary[record.name]));
    console.log('');
  }
  results.targets = evaluateTargets(results.summary);
  console.log('Targets (foldercopy):');
  for (const t of results.targets) console.log(`  ${t.status}  ${t.text}`);
  results.status = 'complete';
  results.finishedAt = new Date().toISOString();
  console.log(`\nresults: ${writeResults(jsonPath)}`);

  const runFailed = results.corpora.some((c) => c.runs.some((r) => !r.ok));
  const differs = results.corpora.some((c) => Object.values(c.verification).some((v) => !v.identical));
  if (runFailed || differs) return 2;
  if (opts.strict && results.targets.some((t) => t.status === 'FAIL')) return 3;
  return 0;
}

/** Saves what was measured so far; a partial result beats none after an hour of runs. */
function savePartial(status, error) {
  if (!results || results.status === 'complete' || !results.corpora.length) return;
  results.status = status;
  results.error = error;
  results.finishedAt = new Date().toISOString();
  for (const c of results.corpora) results.summary[c.name] ??= summarize(c);
  try {
    log(`partial results: ${writeResults(path.resolve(options?.json ?? defaultJsonPath()))}`);
  } catch {
    /* nothing more to do on the way out */
  }
}

function shutdown(signal) {
  if (aborted) process.exit(130); // second Ctrl-C: leave now
  aborted = true;
  log(`\n${signal}: stopping, killing the running tool and unmounting …`);
  killActive();
  killHelpers();
  // give killed processes a moment to exit and release files on the image
  setTimeout(() => {
    savePartial('interrupted', signal);
    teardownAll();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  }, 300);
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGHUP', () => shutdown('SIGHUP'));

main().then(
  (code) => {
    teardownAll();
    process.exitCode = code;
  },
  (error) => {
    if (aborted) return; // the signal handler finishes up
    const message = error instanceof BenchError ? error.message : error?.stack ?? String(error);
    log(`bench: ${message}`);
    savePartial('failed', String(error?.message ?? error));
    teardownAll();
    process.exitCode = 1;
  },
);
