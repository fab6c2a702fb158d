/**
 * bench/latencyfs.py mounted over a temporary backing directory: a FUSE file system, which
 * foldercopy takes for a network one (statfs f_type, src/shared/file-systems.ts), whose every
 * request waits a few milliseconds. Needs root (allow_other), /dev/fuse and Debian's
 * python3-fusepy and fuse3: where root or /dev/fuse is missing, `latencyUnavailable()` says why.
 * The server runs in a process group of its own, so that unmount() can kill it whatever state
 * it is in.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isAlive, waitForExit } from './processes.js';
import { REPO_ROOT, isRoot, waitFor } from './run-cli.js';
import { makeTempDir, removeTempDir } from './tree.js';

/** Debian's python, which has fusepy; the PATH's python3 may be another without it. */
const PYTHON = '/usr/bin/python3';
const MOUNT_TIMEOUT_MS = 10_000;

export interface LatencyMount {
  /** Where the file system is mounted: what the copies write to. */
  dir: string;
  /** What the server stores: stat'ed without the kernel's attribute cache in between. */
  backing: string;
  unmount(): Promise<void>;
}

/** Why latencyfs cannot be mounted here, or undefined when it can. */
export function latencyUnavailable(): string | undefined {
  if (!isRoot()) return 'mounting latencyfs (allow_other) needs root';
  if (!fs.existsSync('/dev/fuse')) return '/dev/fuse is missing';
  return undefined;
}

function mountedSource(dir: string): string {
  try {
    return execFileSync('findmnt', ['-n', '-o', 'SOURCE', '--mountpoint', dir], { encoding: 'utf8' }).trim();
  } catch {
    return ''; // findmnt exits 1 while nothing is mounted there
  }
}

function killGroup(group: number): void {
  try {
    process.kill(-group, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Mounts latencyfs answering each request after `delayMs`; its root (mode 0755) is empty. */
export async function mountLatencyFs(delayMs: number): Promise<LatencyMount> {
  // 0755 all the way down, so that a test can run the CLI as nobody in a directory on it.
  const root = await makeTempDir('foldercopy-fuse-');
  fs.chmodSync(root, 0o755);
  const backing = path.join(root, 'backing');
  const dir = path.join(root, 'mnt');
  fs.mkdirSync(backing, { mode: 0o755 });
  fs.mkdirSync(dir, { mode: 0o755 });
  const server = spawn(PYTHON, [path.join(REPO_ROOT, 'bench/latencyfs.py'), backing, dir, String(delayMs)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  server.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const group = server.pid!;
  const unmount = async (): Promise<void> => {
    try {
      if (mountedSource(dir) !== '') execFileSync('umount', [dir], { stdio: 'ignore' });
    } finally {
      // After the unmount, which lets the server exit by itself; before the removal, which must not go through the mount.
      killGroup(group);
      await waitForExit([group], 5_000);
    }
    await removeTempDir(root);
  };
  try {
    await waitFor(() => mountedSource(dir) === 'latencyfs' || !isAlive(group), { timeoutMs: MOUNT_TIMEOUT_MS, description: `latencyfs mounted at ${dir}` });
    if (mountedSource(dir) !== 'latencyfs') throw new Error(`latencyfs did not mount: ${stderr}`);
  } catch (error) {
    await unmount();
    throw error;
  }
  return { dir, backing, unmount };
}
