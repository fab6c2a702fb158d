// --backup, --backup-dir and --suffix (rsync's): what a run replaces or deletes is kept aside, counted in the summary
// and in --json, end to end through the CLI on real trees.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type RunResult } from './helpers/run-cli.js';
import { sourceAndCopy, useTempDirs, writeTree } from './helpers/tree.js';

const tempDir = useTempDirs();
const T0 = 1_600_000_000;

function backedUp(result: RunResult): number {
  return (JSON.parse(result.stdout) as { backedUp: number }).backedUp;
}

function read(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

/** A first copy, then a source changed since: one file rewritten, one symlink pointed elsewhere, one file and one directory gone. */
async function changedSince(): Promise<{ root: string; source: string; dest: string }> {
  const { root, source, copy: dest } = await sourceAndCopy(tempDir);
  await writeTree(source, {
    'report.txt': { type: 'file', content: 'version 1\n', mtime: T0 },
    'same.txt': { type: 'file', content: 'unchanged\n', mtime: T0 },
    'docs/old.txt': { type: 'file', content: 'old notes\n', mtime: T0 },
    'gone/inner.txt': { type: 'file', content: 'inner\n', mtime: T0 },
    latest: { type: 'symlink', target: 'report.txt' },
  });
  const first = await runCli([source, dest]);
  expect(first.exitCode, first.stderr).toBe(0);
  await writeTree(source, { 'report.txt': { type: 'file', content: 'version 2, longer\n', mtime: T0 + 100 } });
  fs.rmSync(path.join(source, 'latest'));
  fs.symlinkSync('same.txt', path.join(source, 'latest'));
  fs.rmSync(path.join(source, 'docs', 'old.txt'));
  fs.rmSync(path.join(source, 'gone'), { recursive: true });
  return { root, source, dest };
}

describe('--backup', () => {
  it('keeps what is replaced or deleted beside it as name~, counts it, and a second --delete leaves the backups alone', async () => {
    const { source, dest } = await changedSince();
    const run = await runCli(['--json', '--backup', '--delete', source, dest]);
    expect(run.exitCode, run.stderr).toBe(0);
    // report.txt and latest replaced, docs/old.txt and gone/inner.txt deleted.
    expect(backedUp(run)).toBe(4);
    expect(run.stderr).toMatch(/, 4 backed up, 0 failed/);
    expect(read(path.join(dest, 'report.txt'))).toBe('version 2, longer\n');
    expect(read(path.join(dest, 'report.txt~'))).toBe('version 1\n');
    expect(fs.statSync(path.join(dest, 'report.txt~')).mtimeMs).toBe(T0 * 1000);
    expect(fs.readlinkSync(path.join(dest, 'latest'))).toBe('same.txt');
    expect(fs.readlinkSync(path.join(dest, 'latest~'))).toBe('report.txt');
    expect(fs.existsSync(path.join(dest, 'docs', 'old.txt'))).toBe(false);
    expect(read(path.join(dest, 'docs', 'old.txt~'))).toBe('old notes\n');
    // A deleted directory's file is kept beside it, so the directory stays to hold it.
    expect(fs.readdirSync(path.join(dest, 'gone'))).toEqual(['inner.txt~']);
    expect(fs.existsSync(path.join(dest, 'same.txt~'))).toBe(false);

    const again = await runCli(['--json', '--backup', '--delete', source, dest]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(backedUp(again)).toBe(0);
    expect(read(path.join(dest, 'report.txt~'))).toBe('version 1\n');
    expect(read(path.join(dest, 'docs', 'old.txt~'))).toBe('old notes\n');
  });

  it('--suffix names the backups; without --backup nothing is kept and --json says 0', async () => {
    const { source, dest } = await changedSince();
    const run = await runCli(['--json', '--backup', '--suffix', '.bak', source, dest]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(backedUp(run)).toBe(2);
    expect(read(path.join(dest, 'report.txt.bak'))).toBe('version 1\n');

    const plain = await changedSince();
    const without = await runCli(['--json', '--delete', plain.source, plain.dest]);
    expect(without.exitCode, without.stderr).toBe(0);
    expect(backedUp(without)).toBe(0);
    expect(without.stderr).not.toContain('backed up');
    expect(fs.readdirSync(plain.dest).filter((name) => name.endsWith('~'))).toEqual([]);
  });
});

describe('--backup-dir', () => {
  it('keeps them at their relative paths in a directory inside the destination, which --delete never removes; the last backup wins', async () => {
    const { source, dest } = await changedSince();
    const run = await runCli(['--json', '--backup-dir', '.versions', '--delete', source, dest]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(backedUp(run)).toBe(4);
    const versions = path.join(dest, '.versions');
    expect(read(path.join(versions, 'report.txt'))).toBe('version 1\n');
    expect(read(path.join(versions, 'docs', 'old.txt'))).toBe('old notes\n');
    expect(read(path.join(versions, 'gone', 'inner.txt'))).toBe('inner\n');
    expect(fs.readlinkSync(path.join(versions, 'latest'))).toBe('report.txt');
    // The deleted directory went whole: its file is in the backup directory.
    expect(fs.existsSync(path.join(dest, 'gone'))).toBe(false);

    await writeTree(source, { 'report.txt': { type: 'file', content: 'version 3, longer still\n', mtime: T0 + 200 } });
    const again = await runCli(['--json', '--backup-dir', '.versions', '--delete', source, dest]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(backedUp(again)).toBe(1);
    expect(read(path.join(versions, 'report.txt'))).toBe('version 2, longer\n');
    expect(read(path.join(versions, 'docs', 'old.txt'))).toBe('old notes\n');
  });

  it('a directory outside the destination, with a suffix', async () => {
    const { root, source, dest } = await changedSince();
    const run = await runCli(['--json', '--backup-dir', '../attic', '--suffix', '.1', source, dest]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(backedUp(run)).toBe(2);
    expect(read(path.join(root, 'attic', 'report.txt.1'))).toBe('version 1\n');
  });

  it('refuses what cannot work, before anything is written (exit 2)', async () => {
    const { source, dest } = await changedSince();
    const before = read(path.join(dest, 'report.txt'));
    for (const [args, message] of [
      [['--suffix', '.bak'], '--suffix needs --backup'],
      [['--backup', '--suffix', ''], '--suffix is empty'],
      [['--backup', '--suffix', 'a/b'], '--suffix must be part of a name'],
      [['--backup-dir', path.join(source, 'old')], '--backup-dir must be outside the source'],
      [['--backup-dir', '.'], '--backup-dir must not be the destination itself'],
    ] as const) {
      const run = await runCli([...args, source, dest]);
      expect(run.exitCode, args.join(' ')).toBe(2);
      expect(run.stderr).toContain(message);
    }
    expect(read(path.join(dest, 'report.txt'))).toBe(before);
  });
});
