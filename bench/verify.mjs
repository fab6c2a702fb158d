// Is the copy the same tree as the source? rsync in dry-run mode lists every
// entry it would change; an empty list means identical.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const FIRST_LINES = 20;

/**
 * @typedef {{identical: boolean, differences: number, first: string[],
 *            nsExact: boolean, nsDifferences: number, nsFirst: string[], seconds: number}} Verification
 */

/**
 * Two passes:
 * 1. `rsync -rlptn --checksum --itemize-changes --delete src/ dest/`: contents
 *    by checksum, plus types, symlink targets, modes and mtimes. rsync compares
 *    mtimes in whole seconds by default, so this is the "identical" verdict.
 *    --delete (a dry run: nothing is deleted) adds "*deleting" lines for
 *    entries only the copy has, e.g. a temporary file an atomic write left.
 * 2. The same without --checksum but with --modify-window=-1, which compares
 *    nanoseconds: cheap (stat only), and it catches copiers that round times
 *    (Node's utimes truncates to µs, fs.cp to ms). Reported separately.
 * Both passes list the destination root itself ("./") if its mode or time differ.
 * @param {string} src @param {string} dest
 * @returns {Promise<Verification>}
 */
export async function verifyCopy(src, dest) {
  const t0 = process.hrtime.bigint();
  const exact = await itemize(['-rlptn', '--checksum', '--itemize-changes', '--delete', `${src}/`, `${dest}/`]);
  const ns = await itemize(['-rlptn', '--modify-window=-1', '--itemize-changes', '--delete', `${src}/`, `${dest}/`]);
  return {
    identical: exact.count === 0,
    differences: exact.count,
    first: exact.first,
    nsExact: ns.count === 0,
    nsDifferences: ns.count,
    nsFirst: ns.first,
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
  };
}

/**
 * Streams rsync's list: a broken copy can differ in every one of a million
 * entries, so count lines instead of buffering them.
 * @param {string[]} args @returns {Promise<{count: number, first: string[]}>}
 */
function itemize(args) {
  return new Promise((resolve) => {
    const child = spawn('rsync', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const first = [];
    let count = 0;
    let partial = '';
    let stderr = '';
    const take = (line) => {
      if (!line) return;
      count++;
      if (first.length < FIRST_LINES) first.push(line);
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      lines.forEach(take);
    });
    child.stderr.on('data', (chunk) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    child.on('error', (e) => resolve({ count: 1, first: [`rsync: ${e.message}`] }));
    child.on('close', (code) => {
      take(partial);
      // an rsync error (e.g. the destination is missing) is a difference too, never "identical"
      if (code !== 0) {
        count++;
        first.unshift(`rsync exited ${code}: ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
        first.length = Math.min(first.length, FIRST_LINES);
      }
      resolve({ count, first });
    });
  });
}

/**
 * How many regular files directly in `dir` share all their extents with
 * another file (a reflink clone), by FIEMAP flags as `filefrag -v` prints
 * them. For the rows where cp -a clones: says whether a tool cloned too.
 * @param {string} dir @returns {{files: number, cloned: number} | null} null without filefrag
 */
export function clonedFiles(dir) {
  const files = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(dir, e.name));
  let cloned = 0;
  for (const file of files) {
    const r = spawnSync('filefrag', ['-v', file], { encoding: 'utf8' });
    if (r.error) return null;
    const extents = r.stdout.split('\n').filter((l) => /^\s*\d+:\s+\d+\.\./.test(l));
    if (extents.length && extents.every((l) => /\bshared\b/.test(l))) cloned++;
  }
  return { files: files.length, cloned };
}
