// What the user sees: a bar on a terminal, calm lines in a pipe, and the installed package working.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_PATH, REPO_ROOT, runCli, runCliInPty, runCommand } from './helpers/run-cli.js';
import { diffTrees, snapshotTree, useTempDirs, writeTree, type TreeEntry } from './helpers/tree.js';

const tempDir = useTempDirs();

function smallFiles(count: number): TreeEntry[] {
  return Array.from({ length: count }, (_, i) => ({ path: `dir${i % 40}/f${i}.txt`, type: 'file' as const, content: `${i}\n`.repeat(50) }));
}

describe('the command line', () => {
  it('writes only complete lines to a pipe: no carriage return, no escape sequence, nothing on stdout', async () => {
    const root = await tempDir();
    await writeTree(path.join(root, 'source'), smallFiles(300));

    const result = await runCli([path.join(root, 'source'), path.join(root, 'copy')]);

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toMatch(/[\r\x1b]/);
    expect(result.stderr).toMatch(/^foldercopy: copied 300 files, 41 directories, 0 symlinks, .* in .*; 0 skipped, 0 failed\n$/m);
  });

  it('keeps copying when the reader of its output goes away (`| head -1`): exit 1 (what was asked for is lost), no stack trace, complete copy', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    await writeTree(source, smallFiles(300));

    // `-v` prints a line per entry to stderr, merged into the pipe that head closes after one line.
    const script = '"$0" "$1" -v "$2" "$3" 2>&1 | head -1; exit "${PIPESTATUS[0]}"';
    const result = await runCommand(['bash', '-c', script, process.execPath, CLI_PATH, source, path.join(root, 'copy')]);

    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toBe('create .\n');
    expect(diffTrees(await snapshotTree(source), await snapshotTree(path.join(root, 'copy')))).toEqual([]);
  });

  it('draws a progress bar on a terminal and leaves the terminal clean', async () => {
    const root = await tempDir();
    await writeTree(path.join(root, 'source'), smallFiles(6000));

    const { exitCode, output } = await runCliInPty(['-j', '1', path.join(root, 'source'), path.join(root, 'copy')]);

    expect(exitCode).toBe(0);
    expect(output).toContain('\x1b[?25l');
    expect(output).toMatch(/\d+%|listing…/);
    expect(output).toMatch(/files \| [\d.]+ [kMG]?B \| [\d.]+ [kMG]?B\/s/);
    expect(output.lastIndexOf('\x1b[?25h')).toBeGreaterThan(output.lastIndexOf('\x1b[?25l'));
    // The summary is broken between its fields to fit the terminal: joined again here.
    expect(output.replaceAll('\n  ', ' ')).toMatch(/foldercopy: copied 6,000 files.*\n$/);
  });

  it('works when installed from the packed tarball, as npx users get it', async () => {
    const root = await tempDir();
    const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', root], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const listing = execFileSync('tar', ['-tzf', path.join(root, tarball)], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(listing.filter((file) => !/^package\/(bin|dist)\/|^package\/(package\.json|README\.md|LICENSE)$/.test(file))).toEqual([]);
    expect(listing).toEqual(expect.arrayContaining(['package/dist/main.js', 'package/dist/worker.js', 'package/dist/index.js']));

    const prefix = path.join(root, 'prefix');
    const install = await runCommand(['npm', 'install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', path.join(root, tarball)], {
      timeoutMs: 120_000,
    });
    expect(install.exitCode, install.stderr).toBe(0);
    await writeTree(path.join(root, 'source'), [
      { path: 'a/b.txt', type: 'file', content: 'installed', mode: 0o640 },
      { path: 'link', type: 'symlink', target: 'a/b.txt' },
    ]);

    const result = await runCommand([path.join(prefix, 'bin', 'foldercopy'), path.join(root, 'source'), path.join(root, 'copy')]);

    expect(result.exitCode, result.stderr).toBe(0);
    expect(diffTrees(await snapshotTree(path.join(root, 'source')), await snapshotTree(path.join(root, 'copy')))).toEqual([]);
    expect(fs.readlinkSync(path.join(root, 'copy', 'link'))).toBe('a/b.txt');
  });
});
