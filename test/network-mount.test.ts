// Copies onto a FUSE mount (bench/latencyfs.py, 1 ms a request), which foldercopy takes for a network
// file system: there the directories' times are set many at once, a depth at a time, on Node's thread
// pool (src/destination/finalize-directories.ts), at the end of a copy and of a planned copy's
// --finalize. Every directory's mode and nanosecond mtime must come out as the source's, read both
// through the mount and from the backing directory (no attribute cache in between).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { latencyUnavailable, mountLatencyFs, type LatencyMount } from './helpers/latency-mount.js';
import { check, finalize, makePlan, runParts } from './helpers/planned-run.js';
import { REPO_ROOT, runCli, runCommand, type RunOptions } from './helpers/run-cli.js';
import { tempPathFor } from '../src/shared/names-on-disk.js';
import { EDGE_MTIME_NS, diffTrees, snapshotTree, useTempDirs, writeTree, type TreeEntry } from './helpers/tree.js';

const unavailable = latencyUnavailable();
const RUN_TIMEOUT_MS = 30_000;
const NOBODY = 65534;
const DIR_MODES = [0o755, 0o700, 0o750, 0o555] as const;

/**
 * 4 directories at depth 1, 3 in each at depth 2, one in each of those at depth 3 (28 in all, more
 * than the 16 set at once), in every mode of DIR_MODES, a read-only one holding others; a file at the
 * bottom of each; every entry with an mtime of its own, whole nanoseconds, one a double cannot hold.
 */
function nestedTree(): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let n = 0;
  const mtime = (): bigint => 1_650_000_000_000_000_000n + BigInt(n++) * 1_234_567_891n;
  for (let i = 0; i < 4; i++) {
    const top = `top${i}`;
    entries.push({ path: top, type: 'dir', mode: DIR_MODES[i]!, mtime: i === 0 ? EDGE_MTIME_NS : mtime() });
    for (let j = 0; j < 3; j++) {
      const middle = `${top}/mid${j}`;
      entries.push({ path: middle, type: 'dir', mode: DIR_MODES[(i + j + 1) % 4]!, mtime: mtime() });
      entries.push({ path: `${middle}/leaf`, type: 'dir', mode: DIR_MODES[(i + j + 2) % 4]!, mtime: mtime() });
      entries.push({ path: `${middle}/leaf/f.txt`, type: 'file', content: `${middle}\n`, mode: 0o640, mtime: mtime() });
    }
  }
  return entries;
}

/** Differences of `copy` (on the mount) from `source`, seen through the mount and in its backing directory. */
async function differences(source: string, mount: LatencyMount, copy: string): Promise<string[]> {
  const expected = await snapshotTree(source);
  const throughMount = diffTrees(expected, await snapshotTree(copy), { mtimePrecision: 'ns' });
  const backing = path.join(mount.backing, path.relative(mount.dir, copy));
  const stored = diffTrees(expected, await snapshotTree(backing), { mtimePrecision: 'ns' });
  return [...throughMount.map((line) => `mount: ${line}`), ...stored.map((line) => `backing: ${line}`)];
}

function setMtime(target: string, ns: bigint): void {
  const seconds = ns / 1_000_000_000n;
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0');
  execFileSync('touch', ['-m', '-d', `@${seconds}.${fraction}`, target]);
}

/** The run's last line on stderr is its summary; anything else there is a complaint. */
function expectCleanRun(result: { exitCode: number | null; stderr: string }, directories: number): void {
  expect(result.exitCode, result.stderr).toBe(0);
  expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`copied \\d+ files, ${directories} directories, .*; \\d+ skipped, 0 failed$`))]);
}

describe.skipIf(unavailable !== undefined)(`copies onto a FUSE mount${unavailable ? ` [skipped: ${unavailable}]` : ''}`, () => {
  const tempDir = useTempDirs();
  let mount: LatencyMount | undefined;

  beforeAll(async () => {
    const installed = await runCommand([path.join(REPO_ROOT, 'scripts/ensure-packages.sh'), 'python3-fusepy', 'fuse3'], { timeoutMs: 300_000 });
    expect(installed.exitCode, installed.stderr).toBe(0);
  }, 310_000);

  afterEach(async () => {
    await mount?.unmount();
    mount = undefined;
  });

  /** A source tree (its root 0750 with an mtime of its own) in a fresh temp dir that anyone can enter. */
  async function nestedSource(): Promise<{ root: string; source: string }> {
    const root = await tempDir();
    fs.chmodSync(root, 0o755);
    const source = path.join(root, 'src');
    fs.mkdirSync(source);
    await writeTree(source, [...nestedTree(), { path: '', type: 'dir', mode: 0o750, mtime: 1_640_000_000_123_456_789n }]);
    return { root, source };
  }

  it('keeps every directory mode and nanosecond mtime, read-only ones holding others included', async () => {
    const { source } = await nestedSource();
    mount = await mountLatencyFs(1);
    const copy = path.join(mount.dir, 'dst');

    const result = await runCli([source, copy], { timeoutMs: RUN_TIMEOUT_MS });

    expectCleanRun(result, 29);
    expect(await differences(source, mount, copy)).toEqual([]);
  });

  it('does the same for an unprivileged user copying into a directory of its own on the mount', async () => {
    const { source } = await nestedSource();
    execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, source]);
    mount = await mountLatencyFs(1);
    const home = path.join(mount.dir, 'home');
    fs.mkdirSync(home);
    fs.chownSync(home, NOBODY, NOBODY);
    const copy = path.join(home, 'dst');

    const result = await runCli([source, copy], { timeoutMs: RUN_TIMEOUT_MS, asUser: 'nobody' });

    expectCleanRun(result, 29);
    expect(await differences(source, mount, copy)).toEqual([]);
  });

  it('sets again the time of a directory whose source time changed, on a run into the existing copy', async () => {
    const { source } = await nestedSource();
    mount = await mountLatencyFs(1);
    const copy = path.join(mount.dir, 'dst');
    expectCleanRun(await runCli([source, copy], { timeoutMs: RUN_TIMEOUT_MS }), 29);
    const moved = 1_700_000_123_987_654_321n;
    setMtime(path.join(source, 'top3/mid1'), moved); // inside the read-only top3

    const again = await runCli([source, copy], { timeoutMs: RUN_TIMEOUT_MS });

    expectCleanRun(again, 0);
    expect(fs.statSync(path.join(mount.backing, 'dst/top3/mid1'), { bigint: true }).mtimeNs).toBe(moved);
    expect(await differences(source, mount, copy)).toEqual([]);
  });

  it('keeps them in a planned copy whose parts and --finalize write onto the mount', async () => {
    const { root, source } = await nestedSource();
    mount = await mountLatencyFs(1);
    const destination = path.join(mount.dir, 'dst');
    const runAs: RunOptions = { timeoutMs: RUN_TIMEOUT_MS };

    // A planned directory no part makes (the finalize does), and, below, a killed part's temporary.
    fs.mkdirSync(path.join(source, 'top1', 'empty'), 0o750);
    execFileSync('touch', ['-h', '-d', '@1660000000.123456789', path.join(source, 'top1', 'empty'), path.join(source, 'top1')]);

    const { run, made } = await makePlan(root, { source, destination, parts: 2, runAs });
    expect(made.exitCode, made.stderr).toBe(0);
    for (const part of await runParts(run, runAs)) expect(part.exitCode, part.stderr).toBe(0);
    const leftover = path.join(destination, tempPathFor('top2/mid1/leaf/f.txt', 999_999));
    fs.writeFileSync(leftover, 'half written');
    const finalized = await finalize(run, [], runAs);
    expect(finalized.exitCode, finalized.stderr).toBe(0);
    expect(finalized.stderr).toMatch(/\(1 made\)/);
    expect(fs.existsSync(leftover)).toBe(false);
    const checked = await check(run, [], runAs);

    expect(checked.exitCode, `${checked.stdout}${checked.stderr}`).toBe(0);
    expect(await differences(source, mount, destination)).toEqual([]);
  });
});
