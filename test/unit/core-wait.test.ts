// The time this thread waited for a core (src/shared/core-wait.ts), from the kernel's scheduler statistics.
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { coreWaitMs } from '../../src/shared/core-wait.js';

const hogs: ChildProcess[] = [];

afterEach(() => {
  for (const hog of hogs.splice(0)) hog.kill('SIGKILL');
});

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('coreWaitMs', () => {
  it('grows while other processes keep every core busy', { timeout: 10_000 }, async () => {
    // One busy process per core, each ending by itself within 3 s (and killed after the test).
    for (let i = 0; i < os.availableParallelism(); i++) {
      hogs.push(spawn(process.execPath, ['-e', 'const end = Date.now() + 3000; while (Date.now() < end);'], { stdio: 'ignore' }));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = coreWaitMs();
    spin(600);
    const waited = coreWaitMs() - before;
    // Sharing every core with one more busy process than there are cores: a share of the 600 ms went waiting.
    expect(waited).toBeGreaterThan(50);
  });
});
