// Times one run of a tool and samples the memory of its whole process tree.
//
// Peak memory is the maximum, over samples every ~10 ms, of the summed VmRSS of
// the tool's process and all its descendants (foldercopy forks workers, and
// their memory is the tool's memory). Not cgroup v2 memory.peak: it charges
// the page cache of the files the copy writes (hundreds of MB to GB here) to
// the group, which measures the corpus, not the tool.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { Tail } from './proc.mjs';

const SAMPLE_MS = 10;
// Finding the descendants costs ~20 µs per thread (a Node process has 7–11),
// ~0.5–1 ms per walk for foldercopy and its workers: at every sample that took
// 5–10% of a core from the tool being timed on this 2-core machine. So the
// tree is re-walked every 5th sample (50 ms) and the known processes' VmRSS is
// read at every sample. A process that lives less than 50 ms can be missed;
// workers live for the whole copy.
const WALK_EVERY = 5;

/**
 * Descendants via /proc/<pid>/task/<tid>/children: reading a handful of small
 * files per process (~20 µs each) instead of every /proc/<pid>/stat on the
 * machine (~1.6 ms per walk here), which at 100 walks/s would take ~16% of a
 * core away from the tool being timed. Every task is read, because a child
 * belongs to the thread that forked it (a worker_thread can spawn too).
 * Falls back to the ppid walk on kernels built without CONFIG_PROC_CHILDREN.
 */
const HAS_CHILDREN_FILE = fs.existsSync(`/proc/self/task/${process.pid}/children`);

/** @param {number} rootPid @returns {number[]} rootPid and its live descendants */
export function processTree(rootPid) {
  return HAS_CHILDREN_FILE ? treeByChildren(rootPid) : treeByPpid(rootPid);
}

function treeByChildren(rootPid) {
  const pids = [rootPid];
  for (let i = 0; i < pids.length; i++) {
    let tids;
    try {
      tids = fs.readdirSync(`/proc/${pids[i]}/task`);
    } catch {
      continue; // exited between two reads
    }
    for (const tid of tids) {
      let text;
      try {
        text = fs.readFileSync(`/proc/${pids[i]}/task/${tid}/children`, 'latin1');
      } catch {
        continue;
      }
      for (const child of text.split(' ')) if (child) pids.push(Number(child));
    }
  }
  return pids;
}

function treeByPpid(rootPid) {
  /** @type {Map<number, number[]>} */
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'latin1');
    } catch {
      continue;
    }
    // the command name in parentheses may hold spaces and parentheses: parse after the last ')'
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const pids = [rootPid];
  for (let i = 0; i < pids.length; i++) pids.push(...(children.get(/** @type {number} */ (pids[i])) ?? []));
  return pids;
}

/** @param {number} pid @returns {number} bytes, 0 when gone (or a zombie) */
function vmRss(pid) {
  let status;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return 0;
  }
  const m = /\nVmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** @type {import('node:child_process').ChildProcess | null} */
let active = null;

/** Kills the running tool and everything in its process group (Ctrl-C, timeouts). */
export function killActive() {
  if (active?.pid) killGroup(active.pid);
}

/** @param {number} pgid */
function killGroup(pgid) {
  try {
    process.kill(-pgid, 'SIGKILL');
    return true;
  } catch {
    return false; // ESRCH: nothing left in the group
  }
}

/**
 * @typedef {{
 *   wallSeconds: number, peakRssBytes: number, peakProcesses: number, exitCode: number | null,
 *   signal: string | null, timedOut: boolean, spawnError: string | null, strayProcesses: boolean,
 *   stdout: string, stderr: string, samples: number, sampleMicros: number,
 * }} Measurement
 */

/**
 * Runs argv in its own process group (so the whole tree can be killed), with
 * stdout/stderr piped into bounded buffers. Wall time spans spawn → exit.
 * @param {string[]} argv @param {{timeoutMs: number}} opts
 * @returns {Promise<Measurement>}
 */
export async function runMeasured(argv, opts) {
  const [cmd, ...args] = argv;
  const out = new Tail();
  const err = new Tail();
  let peakRssBytes = 0;
  let peakProcesses = 0;
  let samples = 0;
  let sampleNs = 0n;
  let timedOut = false;

  const start = process.hrtime.bigint();
  const child = spawn(/** @type {string} */ (cmd), args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  active = child;
  child.stdout?.on('data', (c) => out.push(c));
  child.stderr?.on('data', (c) => err.push(c));
  const closed = new Promise((resolve) => child.on('close', resolve));

  /** @type {number[]} */
  let pids = [];
  const sample = () => {
    if (!child.pid) return;
    const t0 = process.hrtime.bigint();
    if (samples % WALK_EVERY === 0) pids = processTree(child.pid);
    let sum = 0;
    for (const pid of pids) sum += vmRss(pid);
    if (sum > peakRssBytes) peakRssBytes = sum;
    if (pids.length > peakProcesses) peakProcesses = pids.length;
    samples++;
    sampleNs += process.hrtime.bigint() - t0;
  };
  sample(); // spawn() returns after exec: a tool that exits within 10 ms is still seen once
  const timer = setInterval(sample, SAMPLE_MS);
  const killer = setTimeout(() => {
    timedOut = true;
    if (child.pid) killGroup(child.pid);
  }, opts.timeoutMs);

  /** @type {{code: number | null, signal: string | null, end: bigint, spawnError: string | null}} */
  const result = await new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, end: process.hrtime.bigint(), spawnError: null }));
    child.on('error', (e) => resolve({ code: null, signal: null, end: process.hrtime.bigint(), spawnError: e.message }));
  });
  clearInterval(timer);
  clearTimeout(killer);
  // Anything still in the group outlived the tool: a leak worth reporting, and
  // it must not run on into the next timing.
  const strayProcesses = child.pid !== undefined && !result.spawnError && killGroup(child.pid);
  await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
  active = null;

  return {
    wallSeconds: Number(result.end - start) / 1e9,
    peakRssBytes,
    peakProcesses,
    exitCode: result.code,
    signal: result.signal,
    timedOut,
    spawnError: result.spawnError,
    strayProcesses,
    stdout: out.text(),
    stderr: err.text(),
    samples,
    sampleMicros: samples ? Number(sampleNs / BigInt(samples)) / 1e3 : 0,
  };
}
