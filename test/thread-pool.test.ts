// The CLI sizes Node's thread pool before anything starts it: the calls a run keeps in flight on a
// network file system (the directories' times, a planned copy's check) go 16 at once there, and
// the pool's size is fixed when Node's module loader first reads a file. So the count is read off
// a running CLI: `--files-from -` holds it, all modules loaded, until its standard input closes.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_PATH, waitFor } from './helpers/run-cli.js';
import { useTempDirs } from './helpers/tree.js';

const RUN_TIMEOUT_MS = 20_000;

/** The threads of a CLI waiting on its file list, with `env` laid over the test's environment. */
async function threadsOfWaitingCli(source: string, destination: string, env: Record<string, string | undefined>): Promise<number> {
  const child = spawn(process.execPath, [CLI_PATH, '--files-from', '-', source, destination], {
    env: { ...process.env, NODE_OPTIONS: undefined, ...env },
    stdio: ['pipe', 'ignore', 'pipe'],
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const killer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), RUN_TIMEOUT_MS);
  try {
    const tasks = `/proc/${child.pid}/task`;
    // Waiting on its standard input: the thread count no longer changes.
    let last = -1;
    let steadySince = Date.now();
    await waitFor(
      () => {
        const now = fs.readdirSync(tasks).length;
        if (now !== last) {
          last = now;
          steadySince = Date.now();
        }
        return Date.now() - steadySince >= 500;
      },
      { timeoutMs: RUN_TIMEOUT_MS / 2, intervalMs: 50, description: 'a steady thread count' },
    );
    child.stdin.end('a\n');
    expect(await exited).toBe(0);
    return last;
  } finally {
    clearTimeout(killer);
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Gone already, as it should be.
    }
  }
}

describe.runIf(process.platform === 'linux')("Node's thread pool in the CLI", () => {
  const tempDir = useTempDirs();

  it('has 16 threads, 12 more than Node gives by default; a UV_THREADPOOL_SIZE of the user wins', async () => {
    const source = await tempDir('src');
    fs.writeFileSync(path.join(source, 'a'), 'A\n');
    const copy = path.join(await tempDir('dst'), 'copy');
    const cli = await threadsOfWaitingCli(source, copy, { UV_THREADPOOL_SIZE: undefined });
    const four = await threadsOfWaitingCli(source, path.join(await tempDir('dst'), 'copy'), { UV_THREADPOOL_SIZE: '4' });
    expect(cli - four).toBe(12);
    expect(fs.readFileSync(path.join(copy, 'a'), 'utf8')).toBe('A\n');
  });
});
