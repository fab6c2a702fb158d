// The source trees the bench copies. Generated corpora are a pure function of
// (generator version, corpus name, parameters, seed): the same seed gives a
// byte-identical tree, with the same names, modes, symlinks and mtimes.
// Built corpora stay on the bench filesystem between runs, keyed by a hash of
// those inputs, so a second run skips the minutes of generation / npm ci.
//
// Usage on its own (for tests, or to inspect a tree):
//   node bench/corpus.mjs <small|large|tiny|huge|mixed> <out-dir> [--seed S] [--huge-files N]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Rng, byteStream, sha256 } from './prng.mjs';
import { BenchError, hasTool, runAsync } from './proc.mjs';

/** Bump when a generator changes its output: old cached corpora are then rebuilt. */
export const GENERATOR_VERSION = 1;

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const MIXED_DIR = path.join(HERE, 'mixed');

const MiB = 1024 * 1024;

/**
 * @typedef {{
 *   files: number,
 *   filesPerDir: [number, number],
 *   depth: [number, number],
 *   branching: [number, number],
 *   sizes: { median: number, sigma: number, max: number, emptyFraction: number,
 *            bigFraction: number, bigMin: number, bigMax: number },
 *   symlinkFraction: number,
 *   danglingFraction: number,
 *   dirLinkFraction: number,
 *   emptyDirChance: number,
 *   dotfileChance: number,
 * }} TreeSpec
 */

/** @type {TreeSpec} */
const SMALL = {
  files: 50_000,
  filesPerDir: [20, 100],
  depth: [3, 5],
  branching: [1, 4],
  // log-normal around 4 KB, plus ~1% spread log-uniformly over 64 KB–1 MB
  sizes: { median: 4096, sigma: 1.0, max: 64 * 1024 - 1, emptyFraction: 0.005,
    bigFraction: 0.01, bigMin: 64 * 1024, bigMax: 1024 * 1024 },
  symlinkFraction: 0.006,
  danglingFraction: 0.15,
  dirLinkFraction: 0.1,
  emptyDirChance: 0.05,
  dotfileChance: 0.03,
};

/** The memory target is about entry count, so huge files stay small: ~1 block each. */
function hugeSpec(files) {
  return {
    ...SMALL,
    files,
    sizes: { median: 512, sigma: 1.0, max: 4096, emptyFraction: 0.1, bigFraction: 0, bigMin: 0, bigMax: 0 },
  };
}

const LARGE = { count: 4, size: 512 * MiB };
/** Half of large (its first two files, byte for byte): what cp -a clones on btrfs and XFS. */
const LARGE2 = { count: 2, size: 512 * MiB };
const TINY = { count: 10 };
/** Trees for the latency mount: every file costs round trips there, so few and evenly spread. */
const SPREAD500 = { dirs: 50, files: 500 };
const SPREAD2000 = { dirs: 100, files: 2000 };

export const CORPUS_NAMES = /** @type {const} */ (['tiny', 'small', 'mixed', 'large', 'huge', 'large2', 'spread500', 'spread2000']);

/**
 * Rough bytes on disk one copy needs (blocks, not just data), to refuse early
 * instead of filling the image.
 * @param {string} name @param {{hugeFiles: number}} opts
 */
export function estimateBytes(name, opts) {
  switch (name) {
    case 'tiny': return MiB;
    case 'small': return 700 * MiB;
    case 'mixed': return 400 * MiB;
    case 'large': return LARGE.count * LARGE.size + MiB;
    case 'large2': return LARGE2.count * LARGE2.size + MiB;
    case 'spread500': return 10 * MiB;
    case 'spread2000': return 40 * MiB;
    case 'huge': return opts.hugeFiles * 4300;
    default: throw new BenchError(`unknown corpus ${name}`);
  }
}

/** The inputs that determine a corpus; their hash names its cache entry. */
function cacheInputs(name, opts) {
  switch (name) {
    case 'small': return { name, seed: opts.seed, spec: SMALL };
    case 'huge': return { name, seed: opts.seed, spec: hugeSpec(opts.hugeFiles) };
    case 'large': return { name, seed: opts.seed, spec: LARGE };
    case 'large2': return { name, seed: opts.seed, spec: LARGE2 };
    case 'spread500': return { name, seed: opts.seed, spec: SPREAD500 };
    case 'spread2000': return { name, seed: opts.seed, spec: SPREAD2000 };
    case 'tiny': return { name, seed: opts.seed, spec: TINY };
    // npm decides this tree, not our seed: a new seed must not force a reinstall
    case 'mixed': return {
      name,
      packageJson: fs.readFileSync(path.join(MIXED_DIR, 'package.json'), 'utf8'),
      lockfile: fs.readFileSync(path.join(MIXED_DIR, 'package-lock.json'), 'utf8'),
    };
    default: throw new BenchError(`unknown corpus ${name}`);
  }
}

/**
 * @typedef {{files: number, dirs: number, symlinks: number, bytes: number}} TreeStats
 * @typedef {{name: string, key: string, dir: string, stats: TreeStats, reused: boolean,
 *            generateSeconds: number, inputs: object}} Corpus
 */

/**
 * Returns the corpus under `<root>/corpora`, building it first unless a
 * complete one with the same key is there. Completeness is marked by the
 * manifest `<name>-<key>.json` beside the tree, written last.
 * With `copyFrom` (the same corpus, complete, on another filesystem), the tree
 * is copied from there with `cp -a` instead of being generated or installed.
 * @param {string} name
 * @param {{root: string, seed: string, hugeFiles: number, log: (msg: string) => void, copyFrom?: string}} opts
 * @returns {Promise<Corpus>}
 */
export async function ensureCorpus(name, opts) {
  const inputs = cacheInputs(name, opts);
  const key = sha256(JSON.stringify({ v: GENERATOR_VERSION, ...inputs })).toString('hex').slice(0, 12);
  const corporaDir = path.join(opts.root, 'corpora');
  fs.mkdirSync(corporaDir, { recursive: true });
  const dir = path.join(corporaDir, `${name}-${key}`);
  const manifestPath = `${dir}.json`;

  if (fs.existsSync(manifestPath) && fs.existsSync(dir)) {
    const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
    return { name, key, dir, stats: manifest.stats, reused: true, generateSeconds: manifest.generateSeconds, inputs: summarizeInputs(inputs) };
  }

  await removeStale(corporaDir, name, key, opts.log);
  ensureRoom(opts.root, name, opts);

  const partial = `${dir}.partial`;
  const started = process.hrtime.bigint();
  if (opts.copyFrom) {
    opts.log(`copying corpus ${name} (key ${key}) from ${opts.copyFrom} …`);
    await runAsync('rm', ['-rf', '--', partial]);
    await runAsync('cp', ['-a', '--', opts.copyFrom, partial]);
  } else {
    opts.log(`building corpus ${name} (key ${key}) …`);
    await build(name, partial, opts);
  }
  await runAsync('sync', []);
  fs.renameSync(partial, dir);
  const stats = await treeStats(dir);
  const generateSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  fs.writeFileSync(manifestPath, JSON.stringify({
    name, key, generatorVersion: GENERATOR_VERSION, inputs: summarizeInputs(inputs), stats,
    generateSeconds, createdAt: new Date().toISOString(),
  }, null, 2) + '\n');
  opts.log(`built ${name} in ${generateSeconds.toFixed(1)} s: ${describeStats(stats)}`);
  return { name, key, dir, stats, reused: false, generateSeconds, inputs: summarizeInputs(inputs) };
}

function summarizeInputs(inputs) {
  if (inputs.name !== 'mixed') return inputs;
  return { name: 'mixed', lockfileSha256: sha256(inputs.lockfile).toString('hex') };
}

/** Old keys of the same corpus (another seed, an older generator) only cost disk. */
async function removeStale(corporaDir, name, key, log) {
  const pattern = new RegExp(`^${name}-([0-9a-f]{12})(\\.json|\\.partial)?$`);
  for (const entry of fs.readdirSync(corporaDir)) {
    const m = pattern.exec(entry);
    if (!m) continue;
    if (m[1] === key && m[2] !== '.partial') continue;
    log(`removing stale ${entry}`);
    await runAsync('rm', ['-rf', '--', path.join(corporaDir, entry)]);
  }
}

function ensureRoom(root, name, opts) {
  const need = 2 * estimateBytes(name, opts); // the corpus and one destination
  const st = fs.statfsSync(root);
  const free = st.bavail * st.bsize;
  if (free < need) {
    throw new BenchError(`not enough space on ${root} for corpus ${name}: ${(free / 1e9).toFixed(1)} GB free, ~${(need / 1e9).toFixed(1)} GB needed`);
  }
  if (name === 'huge') {
    const needInodes = Math.ceil(opts.hugeFiles * 1.05) * 2;
    if (st.ffree < needInodes) {
      throw new BenchError(`not enough inodes on ${root} for ${opts.hugeFiles} files (${st.ffree} free, ~${needInodes} needed): use a bigger image or a new one (bench makes images with one inode per 4 KiB)`);
    }
  }
}

/** @param {string} name @param {string} out @param {{seed: string, hugeFiles: number, root?: string}} opts */
async function build(name, out, opts) {
  fs.rmSync(out, { recursive: true, force: true });
  switch (name) {
    case 'small': return generateTree(out, SMALL, `${opts.seed}:small`);
    case 'huge': return generateTree(out, hugeSpec(opts.hugeFiles), `${opts.seed}:huge`);
    case 'large': return generateLarge(out, `${opts.seed}:large`, LARGE);
    // the same seed text as large: its files are large's first two
    case 'large2': return generateLarge(out, `${opts.seed}:large`, LARGE2);
    case 'spread500': return generateSpread(out, SPREAD500, `${opts.seed}:spread500`);
    case 'spread2000': return generateSpread(out, SPREAD2000, `${opts.seed}:spread2000`);
    case 'tiny': return generateTiny(out, `${opts.seed}:tiny`);
    case 'mixed': return installMixed(out, opts.root ?? path.dirname(out));
    default: throw new BenchError(`unknown corpus ${name}`);
  }
}

// ---------------------------------------------------------------------------
// Generated trees

const WORDS = ['index', 'util', 'data', 'report', 'image', 'notes', 'config', 'main', 'test', 'lib',
  'module', 'asset', 'cache', 'page', 'style', 'schema', 'log', 'backup', 'draft', 'photo'];
const EXTS = ['txt', 'js', 'json', 'md', 'png', 'bin', 'c', 'h', 'css', 'html', 'ts', 'jpg', 'csv'];
const DOTFILES = ['.gitignore', '.env', '.npmrc', '.editorconfig', '.DS_Store', '.keep', '.prettierrc'];
const FILE_MODES = [0o644, 0o644, 0o644, 0o644, 0o644, 0o644, 0o644, 0o644, 0o755, 0o755, 0o755, 0o600];
const POOL_BYTES = 4 * MiB;
const EPOCH = Date.UTC(2020, 0, 1) / 1000;
const SPAN = 4 * 365 * 86400;

/** A time with a sub-second fraction. Node's utimes goes through libuv, which
 *  truncates to whole microseconds, so these end in 000 ns; see nanoTimes(). */
function randomTime(rng) {
  return EPOCH + rng.int(SPAN) + rng.int(1_000_000_000) / 1e9;
}

/** Share of entries that get a time with real nanosecond digits. */
const NS_FILE_SHARE = 0.01;
const NS_OTHER_SHARE = 0.05;

/**
 * Node has no API that sets nanoseconds (libuv rounds utimes to µs), yet real
 * trees have them and a copier that loses them is wrong. So a seeded subset of
 * entries gets exact ns times from coreutils touch, one shell script for all.
 * @param {string} out @param {{rel: string, sec: number, nsec: number}[]} items
 */
function nanoTimes(out, items) {
  if (!items.length) return;
  const quote = (s) => `'${s.replaceAll("'", `'\\''`)}'`;
  const script = items
    .map((t) => `touch -h -d @${t.sec}.${String(t.nsec).padStart(9, '0')} -- ${quote(t.rel)}`)
    .join('\n') + '\n';
  const result = spawnSync('sh', ['-e'], { cwd: out, input: script, encoding: 'utf8' });
  if (result.status !== 0) throw new BenchError(`touch failed while setting ns mtimes: ${result.stderr.trim().split('\n').pop()}`);
}

function nanoTime(rng, rel) {
  return { rel, sec: EPOCH + rng.int(SPAN), nsec: rng.int(1_000_000_000) };
}

function fileSize(rng, s) {
  if (rng.chance(s.emptyFraction)) return 0;
  if (s.bigFraction > 0 && rng.chance(s.bigFraction)) {
    return Math.round(s.bigMin * Math.pow(s.bigMax / s.bigMin, rng.next()));
  }
  return Math.min(s.max, Math.max(1, Math.round(rng.logNormal(s.median, s.sigma))));
}

function fileName(rng, index, dotfiles) {
  if (dotfiles && rng.chance(0.5)) return `${rng.pick(DOTFILES)}`;
  const word = rng.pick(WORDS);
  const ext = rng.pick(EXTS);
  // a few names a copier has to quote or encode correctly
  if (rng.chance(0.005)) return `${word} copy ${index}.${ext}`;
  if (rng.chance(0.002)) return `${word}-ünïcødé-${index}.${ext}`;
  return `${word}-${index}.${ext}`;
}

/** @param {string} out @param {TreeSpec} spec @param {string} seedText */
async function generateTree(out, spec, seedText) {
  const rng = new Rng(seedText);
  const pool = byteStream(seedText)(POOL_BYTES);
  /** @type {{rel: string, mode: number, mtime: number}[]} */
  const dirs = [];
  /** @type {string[]} */
  const files = [];
  let filesLeft = spec.files;
  let fileIndex = 0;
  let sinceYield = 0;

  const writeFile = (dirRel, name) => {
    const rel = dirRel ? `${dirRel}/${name}` : name;
    const size = fileSize(rng, spec.sizes);
    const offset = rng.int(POOL_BYTES - size + 1);
    const mode = rng.pick(FILE_MODES);
    const mtime = randomTime(rng);
    const fd = fs.openSync(path.join(out, rel), 'wx', 0o600);
    try {
      if (size > 0) fs.writeSync(fd, pool, offset, size);
      fs.fchmodSync(fd, mode); // explicit: open's mode is filtered by the umask
      fs.futimesSync(fd, mtime, mtime);
    } finally {
      fs.closeSync(fd);
    }
    files.push(rel);
    filesLeft--;
  };

  const makeDir = (rel) => {
    fs.mkdirSync(path.join(out, rel));
    dirs.push({ rel, mode: rng.chance(0.02) ? 0o700 : 0o755, mtime: randomTime(rng) });
  };

  /** @returns {Promise<void>} */
  const fillDir = async (rel, depth, maxDepth) => {
    const dotfiles = rng.chance(spec.dotfileChance);
    const count = Math.min(filesLeft, rng.range(spec.filesPerDir[0], spec.filesPerDir[1]));
    const used = new Set();
    for (let i = 0; i < count; i++) {
      let name = fileName(rng, fileIndex++, dotfiles && i < 3);
      if (used.has(name)) name = `${name}-${fileIndex}`;
      used.add(name);
      writeFile(rel, name);
      // let a Ctrl-C handler run during minutes-long generations
      if (++sinceYield >= 2000) {
        sinceYield = 0;
        await new Promise(setImmediate);
      }
    }
    if (rng.chance(spec.emptyDirChance)) {
      makeDir(`${rel}/empty-${dirs.length}`);
      if (rng.chance(0.3)) makeDir(`${rel}/empty-${dirs.length - 1}/inner`);
    }
    if (depth >= maxDepth) return;
    const subdirs = rng.range(spec.branching[0], spec.branching[1]);
    for (let i = 0; i < subdirs && filesLeft > 0; i++) {
      const sub = `${rel}/${rng.pick(WORDS)}-${dirs.length}`;
      makeDir(sub);
      await fillDir(sub, depth + 1, maxDepth);
    }
  };

  fs.mkdirSync(out, { recursive: true });
  writeFile('', '.gitignore');
  writeFile('', 'README.txt');
  for (let top = 0; filesLeft > 0; top++) {
    const rel = top === 3 ? '.config' : `d${String(top).padStart(4, '0')}`;
    makeDir(rel);
    await fillDir(rel, 1, rng.range(spec.depth[0], spec.depth[1]));
  }

  // Symlinks last, so file targets exist; relative, as a project tree has them.
  const links = Math.round(spec.files * spec.symlinkFraction);
  /** @type {string[]} */
  const linkPaths = [];
  for (let i = 0; i < links; i++) {
    const at = rng.pick(dirs).rel;
    const kind = rng.next();
    let target;
    if (kind < spec.danglingFraction) target = `${rng.pick(dirs).rel}/missing-${i}.txt`;
    else if (kind < spec.danglingFraction + spec.dirLinkFraction) target = rng.pick(dirs).rel;
    else target = rng.pick(files);
    const linkPath = path.join(out, at, `link-${i}`);
    linkPaths.push(`${at}/link-${i}`);
    fs.symlinkSync(path.posix.relative(at, target) || '.', linkPath);
    const t = randomTime(rng);
    fs.lutimesSync(linkPath, t, t);
  }

  // Directory times last: every entry created above bumped its parent's mtime.
  for (const d of dirs) {
    const abs = path.join(out, d.rel);
    fs.chmodSync(abs, d.mode);
    fs.utimesSync(abs, d.mtime, d.mtime);
  }
  fs.chmodSync(out, 0o755);
  const t = randomTime(rng);
  fs.utimesSync(out, t, t);

  /** @type {{rel: string, sec: number, nsec: number}[]} */
  const nanos = [];
  for (const rel of files) if (rng.chance(NS_FILE_SHARE)) nanos.push(nanoTime(rng, rel));
  for (const d of dirs) if (rng.chance(NS_OTHER_SHARE)) nanos.push(nanoTime(rng, d.rel));
  for (const rel of linkPaths) if (rng.chance(NS_OTHER_SHARE)) nanos.push(nanoTime(rng, rel));
  nanoTimes(out, nanos);
}

/** @param {string} out @param {string} seedText @param {{count: number, size: number}} spec */
async function generateLarge(out, seedText, spec) {
  const rng = new Rng(seedText);
  fs.mkdirSync(out, { recursive: true });
  const chunk = 8 * MiB;
  for (let i = 0; i < spec.count; i++) {
    const file = path.join(out, `large-${i}.bin`);
    const next = byteStream(`${seedText}:${i}`);
    const fd = fs.openSync(file, 'wx', 0o644);
    try {
      for (let done = 0; done < spec.size; done += chunk) {
        fs.writeSync(fd, next(Math.min(chunk, spec.size - done)));
        await new Promise(setImmediate);
      }
      fs.fchmodSync(fd, 0o644);
      const t = randomTime(rng);
      fs.futimesSync(fd, t, t);
    } finally {
      fs.closeSync(fd);
    }
  }
  const t = randomTime(rng);
  fs.utimesSync(out, t, t);
}

/**
 * Files spread evenly over one level of directories (`dir-000/`, …): the same
 * number of files in each, sizes log-normal around 4 KB (at most 64 KB).
 * @param {string} out @param {{dirs: number, files: number}} spec @param {string} seedText
 */
async function generateSpread(out, spec, seedText) {
  const rng = new Rng(seedText);
  const pool = byteStream(seedText)(POOL_BYTES);
  const sizes = { ...SMALL.sizes, bigFraction: 0 };
  fs.mkdirSync(out, { recursive: true });
  let index = 0;
  for (let d = 0; d < spec.dirs; d++) {
    const dir = path.join(out, `dir-${String(d).padStart(3, '0')}`);
    fs.mkdirSync(dir);
    const count = Math.floor(spec.files / spec.dirs) + (d < spec.files % spec.dirs ? 1 : 0);
    for (let i = 0; i < count; i++) {
      const file = path.join(dir, fileName(rng, index++, false));
      const size = fileSize(rng, sizes);
      const fd = fs.openSync(file, 'wx', 0o600);
      try {
        if (size > 0) fs.writeSync(fd, pool, rng.int(POOL_BYTES - size + 1), size);
        fs.fchmodSync(fd, rng.pick(FILE_MODES));
        const t = randomTime(rng);
        fs.futimesSync(fd, t, t);
      } finally {
        fs.closeSync(fd);
      }
    }
    const t = randomTime(rng);
    fs.utimesSync(dir, t, t);
  }
  const t = randomTime(rng);
  fs.utimesSync(out, t, t);
}

async function generateTiny(out, seedText) {
  const rng = new Rng(seedText);
  const bytes = byteStream(seedText);
  fs.mkdirSync(out, { recursive: true });
  for (let i = 0; i < TINY.count; i++) {
    const file = path.join(out, `file-${i}.${rng.pick(EXTS)}`);
    fs.writeFileSync(file, bytes(rng.range(100, 8192)), { flag: 'wx' });
    fs.chmodSync(file, rng.pick(FILE_MODES));
    const t = randomTime(rng);
    fs.utimesSync(file, t, t);
  }
  const t = randomTime(rng);
  fs.utimesSync(out, t, t);
}

// ---------------------------------------------------------------------------
// A real node_modules

/** @param {string} out @param {string} root where npm's cache goes (the bench fs, not ~/.npm) */
async function installMixed(out, root) {
  if (!hasTool('npm')) throw new BenchError('npm not found: it is needed to install the mixed corpus');
  fs.mkdirSync(out, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(MIXED_DIR, f), path.join(out, f));
  /** @type {NodeJS.ProcessEnv} */
  const env = { ...process.env, npm_config_cache: path.join(root, 'npm-cache'), npm_config_update_notifier: 'false' };
  delete env.NODE_ENV; // production would still install (they are dependencies), but be explicit
  try {
    await runAsync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: out, env });
  } catch (error) {
    throw new BenchError(`npm ci for the mixed corpus failed (is the npm registry reachable?): ${/** @type {Error} */ (error).message}`);
  }
}

// ---------------------------------------------------------------------------

/** Counts entries without following links. @param {string} root @returns {Promise<TreeStats>} */
export async function treeStats(root) {
  const stats = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
  const stack = [root];
  let sinceYield = 0;
  while (stack.length) {
    const dir = /** @type {string} */ (stack.pop());
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        stats.dirs++;
        stack.push(abs);
      } else if (entry.isSymbolicLink()) stats.symlinks++;
      else if (entry.isFile()) {
        stats.files++;
        stats.bytes += fs.lstatSync(abs).size;
      }
      if (++sinceYield >= 5000) {
        sinceYield = 0;
        await new Promise(setImmediate);
      }
    }
  }
  return stats;
}

/** @param {TreeStats} s */
export function describeStats(s) {
  const n = (x) => x.toLocaleString('en-US');
  return `${n(s.files)} files, ${n(s.dirs)} dirs, ${n(s.symlinks)} symlinks, ${(s.bytes / 1e6).toFixed(0)} MB`;
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { seed: { type: 'string', default: '1' }, 'huge-files': { type: 'string', default: '1000000' } },
  });
  const [name, out] = positionals;
  if (!name || !out || !CORPUS_NAMES.includes(/** @type {any} */ (name))) {
    console.error(`usage: node bench/corpus.mjs <${CORPUS_NAMES.join('|')}> <out-dir> [--seed S] [--huge-files N]`);
    process.exit(2);
  }
  if (fs.existsSync(out)) throw new BenchError(`${out} already exists`);
  await build(name, out, { seed: values.seed ?? '1', hugeFiles: Number(values['huge-files']) });
  console.log(`${out}: ${describeStats(await treeStats(out))}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error) => {
    console.error(`corpus: ${error instanceof BenchError ? error.message : error.stack}`);
    process.exit(1);
  });
}

