// The latency mount: bench/latencyfs.py, a pass-through FUSE file system that
// waits a fixed time before answering each request, mounted over a directory
// of the bench's ext4 image. It stands in for a network mount (NFS, SMB,
// sshfs), where a copier that keeps one request in flight at a time (cp -a)
// waits one round trip per step and one that keeps many in flight does not.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchError, Tail, hasTool, runSync, sleepSync } from './proc.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const LATENCYFS = path.join(HERE, 'latencyfs.py');
const FSNAME = 'latencyfs'; // the mount's SOURCE in findmnt, set by latencyfs.py
const INSTALL = 'apt-get install python3-fusepy fuse3';

/**
 * @typedef {{mount: string, backing: string, delayMs: number, python: string,
 *            child: import('node:child_process').ChildProcess, stderr: Tail}} LatencyMount
 */

/** Mounts started and not yet stopped, so that an exit path stops one still starting. @type {Set<LatencyMount>} */
const live = new Set();

/** Stops every latency mount this process started. Synchronous, for exit paths. @param {(msg: string) => void} log */
export function stopAllLatencyMounts(log) {
  for (const lm of [...live]) stopLatencyMount(lm, log);
}

/**
 * A python3 that can import fusepy. Debian's python3-fusepy installs it for
 * /usr/bin/python3 only, and a pyenv or venv python3 earlier on PATH lacks it.
 * @returns {string | null}
 */
export function fusePython() {
  for (const python of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(python, ['-c', 'try:\n import fusepy\nexcept ImportError:\n import fuse'], { stdio: 'ignore' });
    if (r.status === 0) return python;
  }
  return null;
}

/** Throws, with what to install, when the latency rows cannot run here. */
export function checkLatencyPrerequisites() {
  if (process.getuid?.() !== 0) throw new BenchError('the latency rows mount a FUSE file system with allow_other: run as root, or leave them out (--corpus without latency-*)');
  if (!fs.existsSync('/dev/fuse')) throw new BenchError('the latency rows need /dev/fuse (modprobe fuse), or leave them out');
  const python = fusePython();
  if (!python) throw new BenchError(`the latency rows need python3 with fusepy: ${INSTALL} (or leave them out: --corpus without latency-*)`);
  return python;
}

/** @param {string} mount @returns {string | null} what is mounted exactly there */
function mountedSource(mount) {
  try {
    return runSync('findmnt', ['-n', '-o', 'SOURCE', '--mountpoint', mount]).trim() || null;
  } catch {
    return null;
  }
}

/** Unmounts a FUSE mount: fusermount -u as documented, umount as root if that fails. */
function unmountFuse(mount) {
  for (const [cmd, args] of /** @type {[string, string[]][]} */ ([['fusermount', ['-u', mount]], ['fusermount3', ['-u', mount]], ['umount', [mount]]])) {
    if (!hasTool(cmd)) continue;
    try {
      runSync(cmd, args);
      return true;
    } catch {
      /* busy, or not this tool's mount: try the next */
    }
  }
  return false;
}

/**
 * Mounts latencyfs over `backing` on `mount` and waits until the kernel shows
 * the mount. A mount left by a bench that was killed outright is unmounted first.
 * @param {{backing: string, mount: string, delayMs: number, python: string}} spec
 * @param {(msg: string) => void} log
 * @returns {Promise<LatencyMount>}
 */
export async function startLatencyMount(spec, log) {
  const mount = path.resolve(spec.mount);
  const backing = path.resolve(spec.backing);
  const stale = mountedSource(mount);
  if (stale === FSNAME) {
    log(`unmounting a latencyfs left on ${mount} by an earlier run`);
    if (!unmountFuse(mount)) runSync('umount', ['-l', mount]);
  } else if (stale) {
    throw new BenchError(`${mount} is already mounted from ${stale}: pick another --latency-mount`);
  }
  fs.mkdirSync(backing, { recursive: true });
  fs.mkdirSync(mount, { recursive: true });
  const stderr = new Tail(16 * 1024);
  // Its own process group: a Ctrl-C at the terminal must not stop it before
  // the bench has unmounted it (a dead FUSE server leaves ENOTCONN behind).
  const child = spawn(spec.python, [LATENCYFS, backing, mount, String(spec.delayMs)], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  child.stderr?.on('data', (c) => stderr.push(c));
  /** @type {LatencyMount} */
  const lm = { mount, backing, delayMs: spec.delayMs, python: spec.python, child, stderr };
  live.add(lm);
  let exited = false;
  child.on('exit', () => (exited = true));
  child.on('error', () => (exited = true));
  for (let waited = 0; waited < 10_000; waited += 50) {
    if (mountedSource(mount) === FSNAME) {
      log(`mounted latencyfs (${spec.delayMs} ms per request) on ${mount}, backed by ${backing}`);
      return lm;
    }
    if (exited) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  stopLatencyMount(lm, () => {});
  const why = stderr.text().trim().split('\n').slice(-2).join(' ') || (exited ? `exit ${child.exitCode ?? child.signalCode}` : 'not mounted after 10 s');
  throw new BenchError(`latencyfs did not mount on ${mount}: ${why}`);
}

/**
 * Unmounts and ends latencyfs. Synchronous, for exit paths; safe to call twice.
 * @param {LatencyMount | null} lm @param {(msg: string) => void} log
 */
export function stopLatencyMount(lm, log) {
  if (!lm) return;
  live.delete(lm);
  if (mountedSource(lm.mount) === FSNAME) {
    let done = false;
    for (let attempt = 0; attempt < 8 && !done; attempt++) {
      done = unmountFuse(lm.mount);
      if (!done) sleepSync(250); // a just-killed copier may still hold files open
    }
    if (!done) {
      try {
        runSync('umount', ['-l', lm.mount]);
        done = true;
      } catch {
        /* reported below */
      }
    }
    log(done ? `unmounted latencyfs from ${lm.mount}` : `could not unmount ${lm.mount}; run: umount -l ${lm.mount}`);
  }
  // Unmounted, the server exits by itself; give it a moment, then end it.
  const pid = lm.child.pid;
  if (pid === undefined || lm.child.exitCode !== null || lm.child.signalCode !== null) return;
  for (let waited = 0; waited < 2000 && alive(pid); waited += 50) sleepSync(50);
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
  lm.child.stderr?.destroy();
  lm.child.unref();
}

/** @param {number} pid */
function alive(pid) {
  try {
    // a zombie still answers signal 0: check its state too
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return false;
  }
}
