#!/usr/bin/env node
// `npm run bench`: times foldercopy against cp -a (and rsync -a) on generated
// corpora, on a filesystem fit for timing, and checks every tool's copy.
// See bench/README.md for the method.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CORPUS_NAMES, describeStats, ensureCorpus } from './corpus.mjs';
import { killActive, runMeasured } from './measure.mjs';
import { setupWorkspace, teardownWorkspace } from './mount.mjs';
import { BenchError, errorLine, hasTool, killHelpers, runAsync } from './proc.mjs';
import { evaluateTargets, formatTable, machineInfo, mb, summarize } from './report.mjs';
import { verifyCopy } from './verify.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(HERE);
const DEFAULT_CORPORA = ['tiny', 'small', 'mixed', 'large'];
// Corpora on which foldercopy is also timed re-running over its own up-to-date copy.
const NOOP_CORPORA = new Set(['small']);

const HELP = `Usage: npm run bench -- [options]     (or: node bench/run.mjs [options])

Times foldercopy against cp -a (and rsync -a when installed) in alternating
pairs on generated corpora, on a loop-mounted journaled ext4 image, and checks
each tool's copy with rsync. Needs root for the image, or --dir.

Options:
  --corpus LIST       comma-separated, from ${CORPUS_NAMES.join(', ')} (default: ${DEFAULT_CORPORA.join(',')})
  --pairs N           timed pairs per corpus, after one warm-up run per tool (default: 5)
  --seed S            seed of the generated corpora (default: 1)
  --huge-files N      add the huge corpus with N files (default 1000000 with --corpus huge)
  --dir PATH          bench in this directory instead of a loop image (no root needed)
  --image PATH        ext4 image file, created if missing (default: /var/tmp/foldercopy-bench.img)
  --image-size SIZE   size of a new sparse image (default: 16G)
  --mount PATH        where to mount the image (default: /mnt/foldercopy-bench)
  --keep-mounted      leave the image mounted at the end (corpora stay cached either way)
  --fc-args "ARGS"    extra arguments for foldercopy, split on spaces (e.g. "-j 2")
  --skip-rsync        leave rsync -a out of the rotation (it is still used to verify)
  --timeout SECONDS   kill a run that takes longer (default: 900)
  --json PATH         where to write the results (default: bench/results/<timestamp>.json)
  --strict            exit 3 when a target FAILs
  -h, --help          this text

Environment:
  FOLDERCOPY_BIN      an executable taking <src> <dest> to time instead of
                      node bin/foldercopy.js (e.g. bench/fake-foldercopy.sh)

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
        'keep-mounted': { type: 'boolean', default: false },
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
  const corpora = (values.corpus ?? DEFAULT_CORPORA.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const c of corpora) {
    if (!CORPUS_NAMES.includes(/** @type {any} */ (c))) throw new BenchError(`unknown corpus "${c}" (choose from ${CORPUS_NAMES.join(', ')})`);
  }
  if (values['huge-files'] !== undefined && !corpora.includes('huge')) corpora.push('huge');
  // a stable order: the quick ones first, so a broken tool shows up within seconds
  corpora.sort((a, b) => CORPUS_NAMES.indexOf(/** @type {any} */ (a)) - CORPUS_NAMES.indexOf(/** @type {any} */ (b)));
  return {
    help: values.help ?? false,
    corpora: [...new Set(corpora)],
    pairs: int('pairs', values.pairs, 1),
    seed: /** @type {string} */ (values.seed),
    hugeFiles: int('huge-files', values['huge-files'] ?? '1000000', 1),
    dir: values.dir,
    image: /** @type {string} */ (values.image),
    imageSize: /** @type {string} */ (values['image-size']),
    mount: /** @type {string} */ (values.mount),
    keepMounted: values['keep-mounted'] ?? false,
    fcArgs: (values['fc-args'] ?? '').split(/\s+/).filter(Boolean),
    skipRsync: values['skip-rsync'] ?? false,
    timeoutMs: int('timeout', values.timeout, 1) * 1000,
    json: values.json,
    strict: values.strict ?? false,
  };
}

/** @typedef {ReturnType<typeof parseOptions>} Options */
/** @typedef {{name: string, argv: (src: string, dest: string) => string[]}} Tool */

/** @param {Options} opts @returns {{tool: Tool, description: string}} */
function foldercopyCommand(opts) {
  const fromEnv = process.env.FOLDERCOPY_BIN;
  if (fromEnv) {
    const bin = path.resolve(fromEnv);
    try {
      fs.accessSync(bin, fs.constants.X_OK);
    } catch {
      throw new BenchError(`FOLDERCOPY_BIN=${fromEnv} is not an executable file`);
    }
    return { tool: { name: 'foldercopy', argv: (s, d) => [bin, ...opts.fcArgs, s, d] }, description: `${bin} (FOLDERCOPY_BIN)` };
  }
  const script = path.join(REPO, 'bin', 'foldercopy.js');
  if (!fs.existsSync(script)) {
    throw new BenchError(`${path.relative(process.cwd(), script) || script} not found: write/build foldercopy, or set FOLDERCOPY_BIN to an executable taking <src> <dest> (e.g. bench/fake-foldercopy.sh)`);
  }
  if (!fs.existsSync(path.join(REPO, 'dist'))) throw new BenchError('dist/ not found: run `npm run build` first');
  return { tool: { name: 'foldercopy', argv: (s, d) => [process.execPath, script, ...opts.fcArgs, s, d] }, description: `node ${script}` };
}

let aborted = false;
/** @type {import('./mount.mjs').Workspace | null} */
let workspace = null;
/** @type {any} */
let results = null;
/** @type {Options | null} */
let options = null;

function checkAborted() {
  if (aborted) throw new BenchError('interrupted');
}

/** Read every byte of the source so the timed run starts from a warm cache.
 *  Through a pipe: GNU tar skips reading file data when its output is /dev/null. */
async function readTree(dir) {
  await runAsync('sh', ['-c', 'tar -C "$1" -cf - . | cat > /dev/null', 'sh', dir]);
}

/**
 * Warm-up of each tool, then `pairs` rounds of every tool in turn. Each run gets
 * a fresh destination; the previous one is deleted, the source re-read and
 * everything synced before the clock starts, so no run pays for another's
 * writeback. The first good timed copy of each tool is verified.
 * @param {import('./corpus.mjs').Corpus} corpus @param {Tool[]} tools @param {Options} opts @param {string} root
 */
async function benchCorpus(corpus, tools, opts, root) {
  const runsDir = path.join(root, 'runs', corpus.name);
  await runAsync('rm', ['-rf', '--', runsDir]);
  fs.mkdirSync(runsDir, { recursive: true });
  const record = {
    name: corpus.name, key: corpus.key, source: corpus.dir, stats: corpus.stats, reused: corpus.reused,
    generateSeconds: corpus.generateSeconds, inputs: corpus.inputs, pairs: opts.pairs,
    tools: tools.map((t) => t.name), runs: /** @type {any[]} */ ([]), verification: /** @type {Record<string, any>} */ ({}),
  };
  results.corpora.push(record);
  const broken = new Set();
  let seq = 0;
  let previous = null;

  const once = async (tool, kind, pair) => {
    checkAborted();
    const dest = path.join(runsDir, `${tool.name.replace(/\W+/g, '')}-${++seq}`);
    if (previous) await runAsync('rm', ['-rf', '--', previous]);
    await readTree(corpus.dir);
    await runAsync('sync', []);
    checkAborted();
    const m = await runMeasured(tool.argv(corpus.dir, dest), { timeoutMs: opts.timeoutMs });
    previous = dest;
    const ok = m.exitCode === 0 && !m.timedOut && !m.spawnError;
    const run = {
      tool: tool.name, kind, pair, dest, ok, wallSeconds: m.wallSeconds, peakRssBytes: m.peakRssBytes,
      peakProcesses: m.peakProcesses, exitCode: m.exitCode, signal: m.signal, timedOut: m.timedOut,
      spawnError: m.spawnError, strayProcesses: m.strayProcesses, samples: m.samples, sampleMicros: m.sampleMicros,
      ...(ok ? {} : { stderrTail: m.stderr.slice(-4000), stdoutTail: m.stdout.slice(-1000) }),
    };
    record.runs.push(run);
    const label = kind === 'warmup' ? 'warm-up  ' : `pair ${pair}/${opts.pairs}`;
    if (aborted) return;
    const what = ok
      ? `${m.wallSeconds.toFixed(3)} s  ${mb(m.peakRssBytes)}`
      : `FAILED (${m.timedOut ? 'timed out' : m.spawnError ?? `exit ${m.exitCode ?? m.signal}`}): ${errorLine(m.stderr) || '(no stderr)'}`;
    log(`  [${corpus.name}] ${label}  ${tool.name.padEnd(10)}  ${what}${m.strayProcesses ? '  (left processes running: killed)' : ''}`);
    if (!aborted && ok && kind === 'timed' && !record.verification[tool.name]) {
      const v = await verifyCopy(corpus.dir, dest);
      record.verification[tool.name] = v;
      if (!v.identical) log(`  [${corpus.name}] ${tool.name}: copy differs in ${v.differences} entries, e.g. ${v.first.slice(0, 3).join(' | ')}`);
      else if (!v.nsExact) log(`  [${corpus.name}] ${tool.name}: identical, but ${v.nsDifferences} entries have mtimes off by < 1 s`);
    }
    if (!ok && kind === 'warmup') broken.add(tool.name);
  };

  log(`\n${corpus.name}: ${describeStats(corpus.stats)}${corpus.reused ? ' (cached)' : ''}`);
  for (const tool of tools) await once(tool, 'warmup', 0);
  for (const name of broken) log(`  [${corpus.name}] ${name} failed its warm-up: skipping its timed runs`);
  for (let pair = 1; pair <= opts.pairs; pair++) {
    for (const tool of tools) if (!broken.has(tool.name)) await once(tool, 'timed', pair);
  }
  if (NOOP_CORPORA.has(corpus.name) && !broken.has(tools[0].name)) await noopReruns(corpus, tools[0], opts, runsDir, record);
  await runAsync('rm', ['-rf', '--', runsDir]);
  return record;
}

/**
 * foldercopy again over its own finished copy, which is then up to date: every
 * file is skipped after an lstat of the source and one of the copy. Same preparation as a copy: warm source, synced.
 * @param {import('./corpus.mjs').Corpus} corpus @param {Tool} tool @param {Options} opts @param {string} runsDir @param {any} record
 */
async function noopReruns(corpus, tool, opts, runsDir, record) {
  const dest = path.join(runsDir, 'noop');
  const first = await runMeasured(tool.argv(corpus.dir, dest), { timeoutMs: opts.timeoutMs });
  if (first.exitCode !== 0) {
    log(`  [${corpus.name}] no-op re-runs skipped: the first copy failed (${errorLine(first.stderr)})`);
    return;
  }
  for (let pair = 1; pair <= opts.pairs; pair++) {
    checkAborted();
    await readTree(corpus.dir);
    await runAsync('sync', []);
    const m = await runMeasured(tool.argv(corpus.dir, dest), { timeoutMs: opts.timeoutMs });
    const ok = m.exitCode === 0 && !m.timedOut && !m.spawnError;
    record.runs.push({ tool: tool.name, kind: 'noop', pair, dest, ok, wallSeconds: m.wallSeconds, peakRssBytes: m.peakRssBytes, exitCode: m.exitCode });
    log(`  [${corpus.name}] no-op ${pair}/${opts.pairs}  ${tool.name.padEnd(10)}  ${ok ? `${m.wallSeconds.toFixed(3)} s  ${mb(m.peakRssBytes)}` : `FAILED: ${errorLine(m.stderr)}`}`);
  }
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

function writeResults(jsonPath) {
  fs.mkdirSync(path.dirname(jsonPath), { recursive: true });
  fs.writeFileSync(jsonPath, JSON.stringify(results, null, 2) + '\n');
  return jsonPath;
}

function defaultJsonPath() {
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
  return path.join(HERE, 'results', `${stamp}.json`);
}

async function main() {
  const opts = (options = parseOptions());
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  for (const tool of ['cp', 'rsync', 'tar', 'sync', 'rm']) {
    if (!hasTool(tool)) throw new BenchError(`${tool} not found: it is needed to ${tool === 'rsync' ? 'verify copies' : 'run the bench'} (apt-get install ${tool === 'rsync' ? 'rsync' : 'coreutils tar'})`);
  }
  const fc = foldercopyCommand(opts);
  /** @type {Tool[]} */
  const tools = [fc.tool, { name: 'cp -a', argv: (s, d) => ['cp', '-a', `${s}/.`, d] }];
  if (!opts.skipRsync) tools.push({ name: 'rsync -a', argv: (s, d) => ['rsync', '-a', `${s}/`, `${d}/`] });
  const jsonPath = path.resolve(opts.json ?? defaultJsonPath());

  workspace = setupWorkspace(opts, log);
  const root = workspace.root;
  results = {
    format: 1, status: 'running', startedAt: new Date().toISOString(), finishedAt: null,
    argv: process.argv.slice(2), options: { ...opts, help: undefined },
    foldercopy: fc.description, tools: tools.map((t) => t.name),
    machine: machineInfo(),
    filesystem: { root, image: workspace.image, mount: workspace.mount, created: workspace.created, ...workspace.fs },
    corpora: [], summary: {}, targets: [],
  };
  log(`bench root ${root} (${workspace.fs.fstype}${workspace.fs.journal ? ', journaled' : ''}); foldercopy = ${fc.description}`);
  await runAsync('rm', ['-rf', '--', path.join(root, 'runs')]);

  const corpusOpts = { root, seed: opts.seed, hugeFiles: opts.hugeFiles, log: (m) => log(`  ${m}`) };
  const tiny = await ensureCorpus('tiny', corpusOpts);
  await preflight(fc.tool, tiny, root);
  // build everything before timing anything: generation leaves gigabytes of writeback behind
  const corpora = [];
  for (const name of opts.corpora) {
    checkAborted();
    corpora.push(name === 'tiny' ? tiny : await ensureCorpus(name, corpusOpts));
  }
  await runAsync('sync', []);

  for (const corpus of corpora) {
    const record = await benchCorpus(corpus, tools, opts, root);
    results.summary[corpus.name] = summarize(record);
  }

  await runAsync('rm', ['-rf', '--', path.join(root, 'runs')]);
  log('');
  for (const corpus of results.corpora) {
    console.log(formatTable(corpus, results.summary[corpus.name]));
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
    teardownWorkspace(workspace, { keepMounted: options?.keepMounted ?? false }, log);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  }, 300);
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGHUP', () => shutdown('SIGHUP'));

main().then(
  (code) => {
    teardownWorkspace(workspace, { keepMounted: options?.keepMounted ?? false }, log);
    process.exitCode = code;
  },
  (error) => {
    if (aborted) return; // the signal handler finishes up
    const message = error instanceof BenchError ? error.message : error?.stack ?? String(error);
    log(`bench: ${message}`);
    savePartial('failed', String(error?.message ?? error));
    teardownWorkspace(workspace, { keepMounted: options?.keepMounted ?? false }, log);
    process.exitCode = 1;
  },
);
