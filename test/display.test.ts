// The bar at every width and on a terminal narrowed mid-copy, terminal detection, the -n listing on stdout, and the --delete guard; the real CLI.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processCommandLine, processesWithEnv } from './helpers/processes.js';
import { CLI_PATH, runCli, runCliInPty, runCommand, waitFor } from './helpers/run-cli.js';
import { makeTempDir, removeTempDir, sourceAndCopy, useTempDirs, writeManySmallFiles, writeTree, type TreeEntry } from './helpers/tree.js';

const tempDir = useTempDirs();

function smallFiles(count: number): TreeEntry[] {
  return Array.from({ length: count }, (_, i) => ({ path: `dir${i % 40}/f${i}.txt`, type: 'file' as const, content: `${i}\n`.repeat(50) }));
}

/** Each state the bar was drawn in: the terminal's output split at carriage returns and newlines, escapes removed. */
function drawnLines(output: string): string[] {
  return output
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '\n')
    .split(/[\r\n]/)
    .filter((line) => / files/.test(line) && !line.startsWith('foldercopy:'));
}

const WHOLE = [/^[█░]*\s*(\d{1,3}%|listing…)$/, /^[\d,]+\/≥?[\d,]+ files$/, /^[\d.]+ [kMGTP]?B$/, /^[\d.]+ [kMGTP]?B\/s$/, /^ETA (--|[\d.]+ s|\d+ min \d+ s|\d+ h \d+ min)$/];

describe('the bar never cuts a field', () => {
  let shared = '';
  let source = '';
  beforeAll(async () => {
    shared = await makeTempDir();
    source = path.join(shared, 'source');
    await writeTree(source, smallFiles(4000));
  }, 60_000);
  afterAll(async () => {
    if (shared) await removeTempDir(shared);
  });

  it.each([40, 60, 80, 120])('at %i columns every line fits and every field is whole', async (columns) => {
    const dest = path.join(await tempDir(), 'copy');
    const { exitCode, output } = await runCliInPty(['-j', '1', source, dest], { columns });
    expect(exitCode, output).toBe(0);
    const drawn = drawnLines(output);
    expect(drawn.length, output).toBeGreaterThan(0);
    for (const line of drawn) {
      expect([...line].length, line).toBeLessThan(columns);
      const parts = line.split(' | ');
      for (const [i, part] of parts.entries()) {
        // The current file is the last field, shown only after the ETA.
        if (i > 0 && parts[i - 1]!.startsWith('ETA ')) {
          expect(part, line).toMatch(/^(…)?(dir\d+(\/f\d+\.txt)?|…?[^|]*)$/);
          continue;
        }
        expect(WHOLE.some((re) => re.test(part)), `"${part}" in "${line}"`).toBe(true);
      }
      // Percent, files and ETA are always there.
      expect(line, line).toMatch(/(\d+%|listing…) \| [\d,]+\/≥?[\d,]+ files \| .*ETA /);
    }
    if (columns >= 120) expect(drawn.some((line) => /ETA [^|]+ \| \S/.test(line)), drawn.join('\n')).toBe(true);
  });
});

const hasTmux = spawnSync('tmux', ['-V']).status === 0;

/** Whether the process holds a descriptor in `directory`: a worker opens the source's directories once it copies a batch. */
function holdsDescriptorIn(pid: number, directory: string): boolean {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(directory);
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

describe('a terminal narrowed mid-copy', () => {
  // A real terminal that rewraps its lines when narrowed, as most do (tmux here, on a server of the
  // test's own). The workers are stopped (SIGSTOP) so the copy cannot end while the terminal changes;
  // the parent goes on drawing the bar. A worker is stopped once it copies (it holds a descriptor of
  // a source directory): until one is ready, the parent copies batches itself. Any worker forked
  // after it is stopped too, as soon as it is seen.
  it.skipIf(!hasTmux)(`leaves no piece of the wider bar: one bar row at the new width, and none once the copy is done${hasTmux ? '' : ' [skipped: needs tmux]'}`, async () => {
    const root = await tempDir();
    writeManySmallFiles(path.join(root, 'source'), 20, 500);
    const socket = path.join(root, 'tmux.socket');
    const marker = `FOLDERCOPY_TEST_RUN=resize-${process.pid}-${Date.now()}`;
    const tmux = (...args: string[]): Promise<{ stdout: string }> => runCommand(['tmux', '-S', socket, ...args], { timeoutMs: 10_000 });
    const screen = async (): Promise<string[]> => (await tmux('capture-pane', '-p')).stdout.split('\n');
    const bars = (rows: string[]): string[] => rows.filter((row) => /[█░]|\| [\d,]+\/≥?[\d,]+ files|ETA /.test(row));
    const command = `cd ${root} && echo "$ foldercopy -j 2 source copy" && env ${marker} ${process.execPath} ${CLI_PATH} -j 2 source copy; echo "exit $?"; sleep 60`;
    let run: number[] = [];
    let stopper: ReturnType<typeof setInterval> | undefined;
    try {
      await tmux('-f', '/dev/null', 'new-session', '-d', '-x', '80', '-y', '12', command);
      const workersOfRun = (): number[] => (run = processesWithEnv(marker)).filter((pid) => processCommandLine(pid)?.includes('worker'));
      const source = path.join(root, 'source');
      await waitFor(() => workersOfRun().some((pid) => holdsDescriptorIn(pid, source)), { description: 'a forked worker copying' });
      const workers = new Set<number>();
      const stopNewWorkers = (): void => {
        for (const pid of workersOfRun()) {
          if (workers.has(pid)) continue;
          process.kill(pid, 'SIGSTOP');
          workers.add(pid);
        }
      };
      stopNewWorkers();
      stopper = setInterval(stopNewWorkers, 20);
      await waitFor(async () => bars(await screen()).length > 0, { description: 'the bar' });
      await sleep(300);
      const wide = bars(await screen());
      expect(wide, wide.join('\n')).toHaveLength(1);
      expect([...wide[0]!].length, wide[0]).toBeGreaterThan(50);

      await tmux('resize-window', '-x', '50');
      // A few redraws (10 a second).
      await sleep(600);
      const narrow = bars(await screen());
      expect(narrow, narrow.join('\n')).toHaveLength(1);
      expect([...narrow[0]!].length, narrow[0]).toBeLessThan(50);
      expect(narrow[0], narrow[0]).toMatch(/^[█░]* ?\d+% \| [\d,]+\/[\d,]+ files/);

      clearInterval(stopper);
      for (const pid of workers) process.kill(pid, 'SIGCONT');
      await waitFor(async () => (await screen()).some((row) => row.startsWith('exit ')), { timeoutMs: 60_000, description: 'the copy to end' });
      const after = await screen();
      expect(after, after.join('\n')).toContain('exit 0');
      expect(bars(after), after.join('\n')).toEqual([]);
    } finally {
      clearInterval(stopper);
      for (const pid of run) {
        try {
          process.kill(pid, 'SIGCONT');
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      await tmux('kill-server').catch(() => undefined);
    }
  }, 120_000);
});

describe('terminal detection', () => {
  it.each([{ CI: 'true' }, { TERM: 'dumb' }])('%o on a terminal: plain lines, no \\r, no escape sequence', async (env) => {
    const root = await tempDir();
    await writeTree(path.join(root, 'source'), smallFiles(50));
    const { exitCode, output } = await runCliInPty([path.join(root, 'source'), path.join(root, 'copy')], { env });
    expect(exitCode, output).toBe(0);
    expect(output).not.toMatch(/[\r\x1b]/);
    // The summary is broken between its fields to fit the terminal: joined again here.
    expect(output.replaceAll('\n  ', ' ')).toMatch(/^foldercopy: copied 50 files, .*\n$/);
  });

  it('--progress draws the bar under CI=true', async () => {
    const root = await tempDir();
    await writeTree(path.join(root, 'source'), smallFiles(50));
    const { exitCode, output } = await runCliInPty(['--progress', path.join(root, 'source'), path.join(root, 'copy')], { env: { CI: 'true' } });
    expect(exitCode, output).toBe(0);
    expect(output).toContain('\x1b[?25l');
    expect(output).toMatch(/[█░]/);
  });
});

describe('-n and -v list what changes, on stdout', () => {
  it('an up-to-date copy with one changed file: one listing line on stdout (skips only with -vv); status on stderr', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, smallFiles(200));
    expect((await runCli([source, dest])).exitCode).toBe(0);
    fs.writeFileSync(path.join(source, 'dir3/f3.txt'), 'changed\n');

    const listing = await runCli(['-n', source, dest]);
    expect(listing.exitCode, listing.stderr).toBe(0);
    expect(listing.stdout).toBe('overwrite dir3/f3.txt\n');
    expect(listing.stderr).toMatch(/^foldercopy: dry run, nothing changed: would copy 1 file, .*; 199 skipped, 0 failed\n$/);

    const all = await runCli(['-n', '-vv', source, dest]);
    expect(all.stdout.split('\n').filter(Boolean)).toHaveLength(1 + 199);
    expect(all.stdout).toContain('skip dir0/f0.txt (same size and mtime)\n');

    // With --json, stdout is the document's: the listing goes to stderr.
    const json = await runCli(['-n', '--json', source, dest]);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'ok', dryRun: true });
    expect(json.stderr).toMatch(/^overwrite dir3\/f3\.txt$/m);

    const real = await runCli(['-v', source, dest]);
    expect(real.exitCode, real.stderr).toBe(0);
    expect(real.stdout).toBe('overwrite dir3/f3.txt\n');
  });
});

describe('the --delete guard', () => {
  async function backups(): Promise<{ root: string; photos: string; backupsDir: string }> {
    const root = await tempDir();
    const photos = path.join(root, 'photos');
    const backupsDir = path.join(root, 'backups');
    await writeTree(photos, { 'a.jpg': 'a', 'b.jpg': 'b', '2019/c.jpg': 'c' });
    await writeTree(backupsDir, { 'music/x.mp3': 'x', 'docs/y.txt': 'y', 'z.tar': 'z' });
    return { root, photos, backupsDir };
  }

  it('refuses the cp habit `photos backups/ --delete` before anything is copied: exit 2, one line', async () => {
    const { photos, backupsDir } = await backups();
    const result = await runCli(['--delete', photos, `${backupsDir}/`]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      `foldercopy: refusing --delete: it would delete 3 of the 3 entries at the top of ${backupsDir}/ (docs, music, z.tar), none of which is in the source; ` +
        `to copy the folder itself, use ${backupsDir}/photos; to mirror anyway, give --max-delete\n`,
    );
    expect(fs.readdirSync(backupsDir).sort()).toEqual(['docs', 'music', 'z.tar']);
    // --json: a refusal document.
    const json = await runCli(['--delete', '--json', photos, backupsDir]);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'refused', exitCode: 2, error: { code: 'DELETE_REFUSED' } });
    // An explicit --max-delete lets it through.
    const allowed = await runCli(['--delete', '--max-delete', '10', photos, backupsDir]);
    expect(allowed.exitCode, allowed.stderr).toBe(0);
    expect(fs.readdirSync(backupsDir).sort()).toEqual(['2019', 'a.jpg', 'b.jpg']);
  });

  it('refuses when more than half of the top level would go, and the post-copy count check deletes nothing past half', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, { keep: 'k', 'big/a': 'a', 'big/b': 'b', 'big/c': 'c', 'big/d': 'd' });
    expect((await runCli([source, dest])).exitCode).toBe(0);
    // Top level: 2 of 3 would go.
    await writeTree(dest, { old1: '1', old2: '2', old3: '3' });
    const refused = await runCli(['--delete', source, dest]);
    expect(refused.exitCode).toBe(2);
    // An earlier copy (keep and big are the source's): the advice is to allow it.
    expect(refused.stderr).toMatch(
      /^foldercopy: refusing --delete: it would delete 3 of the 5 entries at the top of [^\n]* \(old1, old2, old3\), which the source no longer has; [^\n]* looks like an earlier copy of [^\n]*: to delete them, allow it with --max-delete set to 3\n$/,
    );
    for (const name of ['old1', 'old2', 'old3']) fs.rmSync(path.join(dest, name));
    // The top level is fine (big stays), but everything below it would go: deleted nothing, exit 1.
    fs.rmSync(path.join(source, 'big'), { recursive: true });
    fs.mkdirSync(path.join(source, 'big'));
    fs.writeFileSync(path.join(source, 'big/new'), 'n');
    const counted = await runCli(['--delete', source, dest]);
    expect(counted.exitCode, counted.stderr).toBe(1);
    expect(counted.stderr).toContain('foldercopy: deleted nothing: 4 of the 6 entries at the destination would be deleted, more than half; give --max-delete to allow it\n');
    expect(fs.readdirSync(path.join(dest, 'big')).sort()).toEqual(['a', 'b', 'c', 'd', 'new']);
  });

  it('without --delete, copying into a non-empty destination that shares no top-level name prints a note of where the files went', async () => {
    const { photos, backupsDir } = await backups();
    const result = await runCli([photos, `${backupsDir}/`]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr.split('\n')[0]).toBe(
      `foldercopy: note: the contents of ${photos} went into ${backupsDir}/ beside what was there; to copy the folder itself, use ${backupsDir}/photos`,
    );
    // A re-run shares names now: no note.
    const again = await runCli([photos, backupsDir]);
    expect(again.stderr).not.toContain('note:');
  });
});
