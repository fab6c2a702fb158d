// --verify as a backup user relies on it: a copy corrupted since the last run (its size and mtime
// kept) is found on a re-run, named, and written again; the manifest holds the source's hashes; copies are read
// back from the disk, not from the page cache (the bytes the kernel read from storage, and fincore, say so).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_PATH, runCli, runCommand, type RunResult } from './helpers/run-cli.js';
import { flipByteKeepingTimes, sourceAndCopy, useTempDirs, writeTree } from './helpers/tree.js';

const tempDir = useTempDirs();
const T0 = 1_600_000_000;
const BIG = 64 * 1024 * 1024;

interface VerifyJson {
  exitCode: number;
  counts: { files: number; skipped: number; overwritten: number; failed: number };
  failures: Array<{ entry: string; code: string; operation: string; message: string }>;
  verified: { files: number; fromDisk: number; throughPageCache: number } | null;
}

function json(result: RunResult): VerifyJson {
  return JSON.parse(result.stdout) as VerifyJson;
}

async function backupTree(): Promise<{ root: string; source: string; dest: string }> {
  const { root, source, copy: dest } = await sourceAndCopy(tempDir);
  await writeTree(source, {
    'docs/report.txt': { type: 'file', content: 'the quarterly report\n'.repeat(100), mtime: T0 },
    'photo.bin': { type: 'file', content: Buffer.alloc(300_000, 7), mtime: T0 },
    'notes.txt': { type: 'file', content: 'notes\n', mtime: T0 },
  });
  return { root, source, dest };
}

/** sha256sum -c in `dir`: its exit code and what it said. */
function sha256Check(dir: string, manifest: string): { status: number; output: string } {
  try {
    return { status: 0, output: execFileSync('sha256sum', ['-c', manifest], { cwd: dir, encoding: 'utf8', stdio: 'pipe' }) };
  } catch (error) {
    const failure = error as { status: number; stdout: string };
    return { status: failure.status, output: failure.stdout };
  }
}

describe('--verify on a re-run', () => {
  it('finds a backed-up file corrupted with its size and mtime kept, names it, writes it again; the next run is clean', async () => {
    const { root, source, dest } = await backupTree();
    const first = await runCli(['--verify', '--json', source, dest]);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(json(first).verified).toEqual({ files: 3, fromDisk: 3, throughPageCache: 0, unchanged: 0 });
    expect(first.stderr).toContain('foldercopy: verified 3 files against the source, read back from the disk after fsync\n');

    flipByteKeepingTimes(path.join(dest, 'photo.bin'));
    const manifest = path.join(root, 'SHA256SUMS');
    const found = await runCli(['--verify', '--json', '--manifest', manifest, source, dest]);
    expect(found.exitCode, found.stderr).toBe(1);
    const report = json(found);
    expect(report.failures).toEqual([
      expect.objectContaining({ entry: 'photo.bin', code: 'EVERIFY', operation: 'verify', message: expect.stringContaining('written again') }),
    ]);
    expect(report.counts).toMatchObject({ skipped: 2, failed: 1 });
    expect(report.verified).toEqual({ files: 2, fromDisk: 2, throughPageCache: 0, unchanged: 0 });
    expect(found.stderr).toMatch(/^foldercopy: verification failed: .*photo\.bin: the copy differed from the source .*\(EVERIFY\)$/m);
    // Written again from the source, and the manifest holds the source's hashes: it checks.
    expect(fs.readFileSync(path.join(dest, 'photo.bin')).equals(fs.readFileSync(path.join(source, 'photo.bin')))).toBe(true);
    expect(sha256Check(dest, manifest)).toEqual({ status: 0, output: expect.stringContaining('photo.bin: OK') });

    const clean = await runCli(['--verify', '--json', source, dest]);
    expect(clean.exitCode, clean.stderr).toBe(0);
    expect(json(clean).verified).toEqual({ files: 3, fromDisk: 3, throughPageCache: 0, unchanged: 0 });
    expect(json(clean).counts).toMatchObject({ skipped: 3, failed: 0 });
  });

  it('--manifest without --verify records the source\'s hash of a kept file: `sha256sum -c` fails on the corrupted copy', async () => {
    const { root, source, dest } = await backupTree();
    expect((await runCli([source, dest])).exitCode).toBe(0);
    flipByteKeepingTimes(path.join(dest, 'docs', 'report.txt'));
    const manifest = path.join(root, 'SHA256SUMS');
    const run = await runCli(['--json', '--manifest', manifest, source, dest]);
    expect(run.exitCode, run.stderr).toBe(0);
    // Nothing was read back, and the summary does not claim it was.
    expect(json(run).verified).toBeNull();
    expect(run.stderr).not.toContain('verified');
    const checked = sha256Check(dest, manifest);
    expect(checked.status).toBe(1);
    expect(checked.output).toContain('docs/report.txt: FAILED');
    expect(checked.output).toContain('photo.bin: OK');
  });

  it('--ignore-existing keeps a different copy on purpose: not verified, not failed, and the manifest hashes the copy', async () => {
    const { root, source, dest } = await backupTree();
    await writeTree(dest, { 'notes.txt': { type: 'file', content: 'mine\n', mtime: T0 + 100 } });
    const manifest = path.join(root, 'SHA256SUMS');
    const run = await runCli(['--ignore-existing', '--verify', '--json', '--manifest', manifest, source, dest]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(json(run).verified).toEqual({ files: 2, fromDisk: 2, throughPageCache: 0, unchanged: 0 });
    expect(fs.readFileSync(path.join(dest, 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(sha256Check(dest, manifest).status).toBe(0);
  });
});

// The bytes a process and its reaped children read from storage (/proc/self/io read_bytes): a read the page cache
// serves counts nothing. The CLI runs under python3, which prints its own figure once the CLI has exited.
const HAS_IO_ACCOUNTING = fs.existsSync('/proc/self/io');
const HAS_FINCORE = (() => {
  try {
    execFileSync('fincore', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const PROBE = 'import subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; print(open("/proc/self/io").read()); sys.exit(code)';

async function readFromStorage(args: readonly string[], env?: Record<string, string>): Promise<{ result: RunResult; readBytes: number }> {
  const result = await runCommand(['python3', '-c', PROBE, process.execPath, CLI_PATH, ...args], { env, timeoutMs: 120_000 });
  const match = /^read_bytes: (\d+)$/m.exec(result.stdout);
  expect(match, result.stdout + result.stderr).not.toBeNull();
  return { result, readBytes: Number(match![1]) };
}

/** Bytes of `file` in the page cache, as fincore counts them. */
function residentBytes(file: string): number {
  return Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' }).trim());
}

describe.skipIf(!HAS_IO_ACCOUNTING || !HAS_FINCORE)(
  `--verify reads copies from the disk, not the page cache${HAS_IO_ACCOUNTING && HAS_FINCORE ? '' : ' [skipped: needs /proc/self/io and fincore]'}`,
  () => {
    async function bigSource(): Promise<{ source: string; dest: string }> {
      const { source, copy: dest } = await sourceAndCopy(tempDir);
      fs.mkdirSync(source);
      // Written just now: the source is in the page cache, so reading it costs no storage read.
      fs.writeFileSync(path.join(source, 'big.bin'), Buffer.alloc(BIG, 0x5a));
      return { source, dest };
    }

    it('a written copy is flushed, its pages dropped and read back from storage; none stay cached', async () => {
      const { source, dest } = await bigSource();
      const { result, readBytes } = await readFromStorage(['-j', '1', '--verify', source, dest]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(readBytes).toBeGreaterThanOrEqual(BIG);
      expect(residentBytes(path.join(dest, 'big.bin'))).toBeLessThan(BIG / 16);
      expect(result.stderr).toContain('verified 1 file against the source, read back from the disk after fsync');
    }, 180_000);

    it('a kept copy still in the page cache is read from storage on a --verify re-run', async () => {
      const { source, dest } = await bigSource();
      expect((await runCli(['-j', '1', source, dest])).exitCode).toBe(0);
      fs.readFileSync(path.join(dest, 'big.bin'));
      expect(residentBytes(path.join(dest, 'big.bin'))).toBe(BIG);
      const { result, readBytes } = await readFromStorage(['-j', '1', '--verify', source, dest]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(readBytes).toBeGreaterThanOrEqual(BIG);
      expect(residentBytes(path.join(dest, 'big.bin'))).toBeLessThan(BIG / 16);
    }, 180_000);

    it('without the native calls the copy is read through the page cache, and the summary says so once', async () => {
      const { source, dest } = await bigSource();
      fs.writeFileSync(path.join(source, 'small.txt'), 'small\n');
      const { result, readBytes } = await readFromStorage(['-j', '1', '--verify', '--json', source, dest], { FOLDERCOPY_TEST_NO_NATIVE: '1' });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(readBytes).toBeLessThan(BIG / 2);
      const document = JSON.parse(result.stdout.slice(0, result.stdout.indexOf('\nrchar:') + 1)) as VerifyJson;
      expect(document.verified).toEqual({ files: 2, fromDisk: 0, throughPageCache: 2, unchanged: 0 });
      expect(result.stderr.match(/page cache/g)).toHaveLength(1);
    }, 180_000);
  },
);
