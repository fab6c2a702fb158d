// Hashes that need not be recomputed: a --checksum or --verify re-run with the same --manifest takes the hash the
// manifest's state (M.foldercopy-state) recorded for a file whose device, inode, size, mtime and ctime are unchanged
// on both sides. What a user checks: the bytes the run read from storage (/proc/self/io read_bytes, with the files'
// cached pages dropped first), that a change hidden by `touch -d` (its ctime moves) is read and found, and that a
// state of another tree, or none, or a garbled one, only means every file is hashed again.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_PATH, runCli, runCommand, type RunResult } from './helpers/run-cli.js';
import { flipByteKeepingTimes, sourceAndCopy, useTempDirs, writeTree } from './helpers/tree.js';

const tempDir = useTempDirs();
const T0 = 1_600_000_000;
const BIG = 16 * 1024 * 1024;
const HAS_IO_ACCOUNTING = fs.existsSync('/proc/self/io');

// The CLI runs under python3, which prints its own read_bytes (its reaped children's included) once the CLI exited.
const PROBE = 'import subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; print(open("/proc/self/io").read()); sys.exit(code)';
// Each file's data written out, then its cached pages dropped: reading it again costs storage reads.
const EVICT = 'import os, sys\nfor f in sys.argv[1:]:\n  fd = os.open(f, os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)';

interface Report {
  counts: { skipped: number; overwritten: number; failed: number };
  failures: Array<{ entry: string; code: string }>;
  verified: { files: number; fromDisk: number; throughPageCache: number; unchanged: number } | null;
}

async function measured(args: readonly string[]): Promise<{ result: RunResult; readBytes: number; report: Report }> {
  const result = await runCommand(['python3', '-c', PROBE, process.execPath, CLI_PATH, '--json', ...args], { timeoutMs: 120_000 });
  const match = /^read_bytes: (\d+)$/m.exec(result.stdout);
  expect(match, result.stdout + result.stderr).not.toBeNull();
  const report = JSON.parse(result.stdout.slice(0, result.stdout.indexOf('\nrchar:') + 1)) as Report;
  return { result, readBytes: Number(match![1]), report };
}

function filesUnder(root: string): string[] {
  return fs.readdirSync(root, { recursive: true, encoding: 'utf8' }).map((name) => path.join(root, name)).filter((file) => fs.lstatSync(file).isFile());
}

function evict(...roots: string[]): void {
  execFileSync('python3', ['-c', EVICT, ...roots.flatMap(filesUnder)]);
}

async function tree(): Promise<{ root: string; source: string; dest: string; manifest: string }> {
  const { root, source, copy: dest } = await sourceAndCopy(tempDir);
  await writeTree(source, {
    'big.bin': { type: 'file', content: Buffer.alloc(BIG, 0x5a), mtime: T0 },
    'docs/report.txt': { type: 'file', content: 'the quarterly report\n'.repeat(1000), mtime: T0 },
    'notes.txt': { type: 'file', content: 'notes\n'.repeat(500), mtime: T0 },
  });
  return { root, source, dest, manifest: path.join(root, 'SHA256SUMS') };
}

function sha256Check(dir: string, manifest: string): string {
  return execFileSync('sha256sum', ['-c', manifest], { cwd: dir, encoding: 'utf8' });
}

describe.skipIf(!HAS_IO_ACCOUNTING)(`a re-run with the same --manifest reads only what changed${HAS_IO_ACCOUNTING ? '' : ' [skipped: needs /proc/self/io]'}`, () => {
  it('--checksum over an unchanged tree reads no file content, and writes the same manifest', async () => {
    const { source, dest, manifest } = await tree();
    expect((await runCli(['--manifest', manifest, source, dest])).exitCode).toBe(0);
    const sums = fs.readFileSync(manifest, 'utf8');
    expect(fs.existsSync(`${manifest}.foldercopy-state`)).toBe(true);
    evict(source, dest);
    const { result, readBytes, report } = await measured(['-j', '2', '--checksum', '--manifest', manifest, source, dest]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(report.counts).toMatchObject({ skipped: 3, overwritten: 0, failed: 0 });
    expect(readBytes).toBeLessThan(BIG / 8);
    expect(fs.readFileSync(manifest, 'utf8')).toBe(sums);
    expect(sha256Check(dest, manifest)).toContain('big.bin: OK');
  }, 180_000);

  it('--verify over an unchanged tree reads no file content once a --verify run read the copies back', async () => {
    const { source, dest, manifest } = await tree();
    expect((await runCli(['--verify', '--manifest', manifest, source, dest])).exitCode).toBe(0);
    evict(source, dest);
    const { result, readBytes, report } = await measured(['-j', '2', '--verify', '--manifest', manifest, source, dest]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(readBytes).toBeLessThan(BIG / 8);
    expect(report.verified).toEqual({ files: 3, fromDisk: 0, throughPageCache: 0, unchanged: 3 });
    expect(result.stderr).toContain("verified 3 files against the source: 3 unchanged since the manifest's run read them back, 0 read back");
    expect(sha256Check(dest, manifest)).toContain('big.bin: OK');
  }, 180_000);

  it('a copy never read back is read by --verify the first time, and not the next', async () => {
    const { source, dest, manifest } = await tree();
    expect((await runCli(['--manifest', manifest, source, dest])).exitCode).toBe(0);
    evict(source, dest);
    const first = await measured(['--verify', '--manifest', manifest, source, dest]);
    expect(first.result.exitCode, first.result.stderr).toBe(0);
    expect(first.report.verified).toMatchObject({ files: 3, unchanged: 0 });
    // The source's hash was recorded: only the copy is read.
    expect(first.readBytes).toBeGreaterThanOrEqual(BIG);
    expect(first.readBytes).toBeLessThan(BIG * 1.5);
    evict(source, dest);
    const again = await measured(['--verify', '--manifest', manifest, source, dest]);
    expect(again.report.verified).toMatchObject({ files: 3, unchanged: 3 });
    expect(again.readBytes).toBeLessThan(BIG / 8);
  }, 180_000);

  it('a source changed with its times reset (its ctime moved) is read, found different by --checksum, and copied', async () => {
    const { source, dest, manifest } = await tree();
    expect((await runCli(['--manifest', manifest, source, dest])).exitCode).toBe(0);
    flipByteKeepingTimes(path.join(source, 'big.bin'));
    evict(source, dest);
    const { result, readBytes, report } = await measured(['--checksum', '--manifest', manifest, source, dest]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(report.counts).toMatchObject({ skipped: 2, overwritten: 1, failed: 0 });
    expect(readBytes).toBeGreaterThanOrEqual(BIG);
    expect(fs.readFileSync(path.join(dest, 'big.bin')).equals(fs.readFileSync(path.join(source, 'big.bin')))).toBe(true);
    expect(sha256Check(dest, manifest)).toContain('big.bin: OK');
  }, 180_000);

  it('a copy corrupted in place with its mtime reset (its ctime moved) is read back and caught by --verify', async () => {
    const { source, dest, manifest } = await tree();
    expect((await runCli(['--verify', '--manifest', manifest, source, dest])).exitCode).toBe(0);
    flipByteKeepingTimes(path.join(dest, 'docs', 'report.txt'));
    const { result, report } = await measured(['--verify', '--manifest', manifest, source, dest]);
    expect(result.exitCode, result.stderr).toBe(1);
    expect(report.failures).toEqual([expect.objectContaining({ entry: 'docs/report.txt', code: 'EVERIFY' })]);
    expect(report.verified).toMatchObject({ files: 2, unchanged: 2 });
    expect(fs.readFileSync(path.join(dest, 'docs', 'report.txt')).equals(fs.readFileSync(path.join(source, 'docs', 'report.txt')))).toBe(true);
    expect(sha256Check(dest, manifest)).toContain('docs/report.txt: OK');
    // Written again and recorded: the next run is clean and reads nothing.
    evict(source, dest);
    const clean = await measured(['--verify', '--manifest', manifest, source, dest]);
    expect(clean.result.exitCode, clean.result.stderr).toBe(0);
    expect(clean.report.verified).toMatchObject({ files: 3 });
  }, 180_000);
});

describe.skipIf(!HAS_IO_ACCOUNTING)(`a state that is not this tree's is no state${HAS_IO_ACCOUNTING ? '' : ' [skipped: needs /proc/self/io]'}`, () => {
  /** Both sides read (`sides`: 2), or only the copy (1: the source's record still holds). */
  async function verifiedWhole(source: string, dest: string, manifest: string, sides = 2): Promise<void> {
    evict(source, dest);
    const { result, readBytes, report } = await measured(['--verify', '--manifest', manifest, source, dest]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(report.verified).toMatchObject({ files: 3, unchanged: 0 });
    expect(readBytes).toBeGreaterThanOrEqual(sides * BIG);
    expect(sha256Check(dest, manifest)).toContain('big.bin: OK');
  }

  it('a destination replaced by another copy at the same path (other inodes) is read whole', async () => {
    const { source, dest, manifest } = await tree();
    expect((await runCli(['--verify', '--manifest', manifest, source, dest])).exitCode).toBe(0);
    fs.rmSync(dest, { recursive: true });
    execFileSync('cp', ['-a', source, dest]);
    await verifiedWhole(source, dest, manifest, 1);
  }, 180_000);

  it('the state of another source and destination is not used', async () => {
    const { root, source, dest, manifest } = await tree();
    expect((await runCli(['--verify', '--manifest', manifest, source, dest])).exitCode).toBe(0);
    const otherSource = path.join(root, 'other-source');
    const otherDest = path.join(root, 'other-copy');
    execFileSync('cp', ['-a', source, otherSource]);
    execFileSync('cp', ['-a', dest, otherDest]);
    await verifiedWhole(otherSource, otherDest, manifest);
  }, 180_000);

  it('a missing, truncated or garbled state means every file is hashed, and a good state is written again', async () => {
    const { source, dest, manifest } = await tree();
    const state = `${manifest}.foldercopy-state`;
    expect((await runCli(['--verify', '--manifest', manifest, source, dest])).exitCode).toBe(0);
    const good = fs.readFileSync(state, 'utf8');
    fs.rmSync(state);
    await verifiedWhole(source, dest, manifest);
    fs.writeFileSync(state, good.slice(0, good.length - 20));
    await verifiedWhole(source, dest, manifest);
    fs.writeFileSync(state, good.replace(/"[0-9a-f]{64}"/, '"not a hash"'));
    await verifiedWhole(source, dest, manifest);
    fs.writeFileSync(state, Buffer.from([0xff, 0x00, 0x0a]));
    await verifiedWhole(source, dest, manifest);
    expect(fs.readFileSync(state, 'utf8')).toBe(good);
    evict(source, dest);
    expect((await measured(['--verify', '--manifest', manifest, source, dest])).readBytes).toBeLessThan(BIG / 8);
  }, 240_000);
});
