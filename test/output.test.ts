// What foldercopy prints and hands out: names kept exact in machine output (--log, --json, the
// library) and told apart in human output (-v, failure lines); the summary's counts agreeing with
// --json; `--log -`; and what a terminal is left with after a second Ctrl-C or a Ctrl-Z.
// Real files, the real CLI.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFolder, pathBytes, type CopyProgress, type CopySkip, type EntryEvent } from '../dist/index.js';
import { parseTempName, stagingPidOf } from '../src/shared/names-on-disk.js';
import { CLI_PATH, isRoot, runCli, runInPty, startCli, waitFor, type RunResult, type StartedProcess } from './helpers/run-cli.js';
import { diffTrees, makeTempDir, removeTempDir, snapshotTree, sourceAndCopy, useTempDirs, writeSparseSource, writeTree, type TreeEntry } from './helpers/tree.js';

const tempDir = useTempDirs();

/** Four names that lossy output merges in pairs: two bytes that are not UTF-8, a newline and a backslash-n. */
const ODD_NAMES = [Buffer.from('caf\xe8', 'latin1'), Buffer.from('caf\xe9', 'latin1'), Buffer.from('a\nb'), Buffer.from('a\\nb')];
/** How -v and failure lines show them (like `ls --quoting-style=escape`). */
const ODD_NAMES_SHOWN = ['caf\\xe8', 'caf\\xe9', 'a\\nb', 'a\\\\nb'];

const hex = (bytes: Buffer): string => bytes.toString('hex');

function stderrLines(result: RunResult): string[] {
  return result.stderr.split('\n').filter(Boolean);
}

function logEvents(text: string): EntryEvent[] {
  expect(text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as EntryEvent);
}

interface JsonDocument {
  status: string;
  source: string;
  destination: string;
  counts: Record<string, number>;
  failures: Array<{ path: string; code: string }>;
  specialFiles: Array<{ path: string; reason: string }>;
}

async function oddTree(root: string, extra: TreeEntry[] = []): Promise<{ source: string; dest: string }> {
  const source = path.join(root, 'source');
  await writeTree(source, [...ODD_NAMES.map((name, i): TreeEntry => ({ path: name, type: 'file', content: `name ${i}\n` })), ...extra]);
  return { source, dest: path.join(root, 'copy') };
}

describe('names in machine output are lossless, and distinct in human output', () => {
  it('--log, --json and -v: the four names stay four, and each log path decodes to its exact bytes', async () => {
    const root = await tempDir();
    const { source, dest } = await oddTree(root, [{ path: Buffer.from('d\xff/x', 'latin1'), type: 'file', content: 'x' }]);
    const log = path.join(root, 'run.jsonl');

    const result = await runCli(['--log', log, '--json', '-v', source, dest]);

    expect(result.exitCode, result.stderr).toBe(0);
    const logText = fs.readFileSync(log, 'utf8');
    expect(logText).not.toContain('\ufffd');
    const files = logEvents(logText).filter((event) => event.type === 'file');
    expect(files).toHaveLength(5);
    const logged = files.map((event) => event.path);
    expect(new Set(logged).size).toBe(5);
    // Lossless: each path is the name's bytes (surrogateescape), found as such at the destination.
    const expected = [...ODD_NAMES, Buffer.from('d\xff/x', 'latin1')];
    expect(logged.map((p) => hex(pathBytes(p))).sort()).toEqual(expected.map(hex).sort());
    for (const p of logged) expect(fs.readFileSync(Buffer.concat([Buffer.from(`${dest}/`), pathBytes(p)])).length).toBeGreaterThan(0);
    // Python's convention, checked by hand: U+DC80+byte for a byte that is not UTF-8, a real newline for a newline.
    expect(logged.sort()).toEqual(['a\n' + 'b', 'a\\nb', 'caf\udce8', 'caf\udce9', 'd\udcff/x'].sort());
    expect(logText).toContain('"path":"caf\\udce8"');
    expect(logText).toContain('"path":"a\\nb"');
    expect(logText).toContain('"path":"a\\\\nb"');

    const document = JSON.parse(result.stdout) as JsonDocument;
    expect(document.counts).toMatchObject({ files: 5, skipped: 0, failed: 0 });

    // -v: one line each, four different lines.
    const shown = stderrLines(result).filter((line) => line.startsWith('create '));
    expect(shown.sort()).toEqual([...ODD_NAMES_SHOWN.map((name) => `create ${name}`), 'create .', 'create d\\xff', 'create d\\xff/x'].sort());
  });

  it('the library hands out lossless paths: EntryEvent.path, CopyProgress.currentPath, CopySkip.path', async () => {
    const root = await tempDir();
    const { source, dest } = await oddTree(root, [{ path: Buffer.from('pipe\xe8', 'latin1'), type: 'fifo' }]);
    const events: EntryEvent[] = [];
    const skips: CopySkip[] = [];
    const current = new Set<string>();

    const summary = await copyFolder(source, dest, {
      jobs: 1,
      onEntry: (event) => events.push(event),
      onSkip: (skip) => skips.push(skip),
      onProgress: (progress: CopyProgress) => progress.currentPath !== undefined && current.add(progress.currentPath),
    });

    expect(summary.failures).toEqual([]);
    const files = events.filter((event) => event.type === 'file').map((event) => hex(pathBytes(event.path)));
    expect(files.sort()).toEqual(ODD_NAMES.map(hex).sort());
    expect(skips.map((skip) => hex(pathBytes(skip.path)))).toEqual([hex(Buffer.from(`${source}/pipe\xe8`, 'latin1'))]);
    expect(summary.specialFiles).toEqual(skips);
    for (const p of current) expect(ODD_NAMES.map(hex)).toContain(hex(pathBytes(p)));
    expect(current.size).toBeGreaterThanOrEqual(1);
  });

  it.skipIf(!isRoot())(
    `failure lines tell names apart, and --json failures decode to their bytes (as nobody)${isRoot() ? '' : ' [skipped: needs root to run as nobody]'}`,
    async () => {
      const root = await tempDir();
      fs.chmodSync(root, 0o755);
      const source = path.join(root, 'source');
      await writeTree(source, [
        ...ODD_NAMES.map((name): TreeEntry => ({ path: name, type: 'file', content: 'secret\n', mode: 0o000 })),
        { path: 'ok.txt', type: 'file', content: 'ok\n' },
      ]);
      const out = path.join(root, 'out');
      fs.mkdirSync(out);
      fs.chownSync(out, 65534, 65534);

      const result = await runCli(['--json', source, path.join(out, 'copy')], { asUser: 'nobody' });

      expect(result.exitCode, result.stderr).toBe(1);
      const failures = stderrLines(result).filter((line) => line.startsWith('foldercopy: cannot read: '));
      expect(failures.sort()).toEqual(ODD_NAMES_SHOWN.map((name) => `foldercopy: cannot read: ${source}/${name}: permission denied (EACCES)`).sort());
      const document = JSON.parse(result.stdout) as JsonDocument;
      expect(document.failures.map((failure) => hex(pathBytes(failure.path))).sort()).toEqual(
        ODD_NAMES.map((name) => hex(Buffer.concat([Buffer.from(`${source}/`), name]))).sort(),
      );
    },
  );
});

describe('the summary counts as --json does', () => {
  it('special files are said apart from skipped entries', async () => {
    const { source, copy: dest } = await sourceAndCopy(tempDir);
    await writeTree(source, [
      { path: 'a.txt', type: 'file', content: 'a' },
      { path: 'pipe', type: 'fifo' },
    ]);

    const first = await runCli(['--json', source, dest]);

    expect(first.exitCode, first.stderr).toBe(0);
    expect((JSON.parse(first.stdout) as JsonDocument).counts).toMatchObject({ skipped: 0, specialFiles: 1 });
    expect(first.stderr).toMatch(/^foldercopy: copied 1 file, 1 directory, 0 symlinks, .*; 0 skipped, 1 special file not copied, 0 failed$/m);

    const again = await runCli(['--json', source, dest]);
    expect((JSON.parse(again.stdout) as JsonDocument).counts).toMatchObject({ skipped: 1, specialFiles: 1 });
    expect(again.stderr).toMatch(/; 1 skipped, 1 special file not copied, 0 failed$/m);
  });
});

describe('--log -', () => {
  it('writes one JSON line per entry to stdout and creates no file named "-"', async () => {
    const root = await tempDir();
    const { source, dest } = await oddTree(root);

    const result = await runCli(['--log', '-', '-v', source, dest], { cwd: root });

    expect(result.exitCode, result.stderr).toBe(0);
    expect(fs.existsSync(path.join(root, '-'))).toBe(false);
    const events = logEvents(result.stdout);
    expect(events.map((event) => [event.action, event.type])).toContainEqual(['create', 'directory']);
    expect(events.filter((event) => event.type === 'file').map((event) => hex(pathBytes(event.path))).sort()).toEqual(ODD_NAMES.map(hex).sort());
    // -v stays on stderr.
    expect(stderrLines(result).filter((line) => line.startsWith('create '))).toHaveLength(5);
    expect(result.stderr).toMatch(/^foldercopy: copied 4 files, /m);
  });

  it('is refused with --json, which writes stdout too: exit 2, one line, nothing copied', async () => {
    const root = await tempDir();
    const { source, dest } = await oddTree(root);

    const result = await runCli(['--log', '-', '--json', source, dest], { cwd: root });

    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^foldercopy: --log - and --json both write to stdout[^\n]*\n$/);
    expect(fs.existsSync(dest)).toBe(false);
    expect(fs.existsSync(path.join(root, '-'))).toBe(false);
  });

  it('--manifest - is refused, not written to a file named -: exit 2, one line, nothing copied', async () => {
    const root = await tempDir();
    const { source, dest } = await oddTree(root);

    const result = await runCli(['--manifest', '-', source, dest], { cwd: root });

    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^foldercopy: --manifest needs a file name[^\n]*\n$/);
    expect(fs.existsSync(dest)).toBe(false);
    expect(fs.readdirSync(root).filter((name) => name.startsWith('-'))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Signals: a second Ctrl-C, and Ctrl-Z under a terminal
// ---------------------------------------------------------------------------

let sharedRoot = '';
/** Thousands of small files: a second or more to copy with one worker. */
let manySource = '';

beforeAll(async () => {
  sharedRoot = await makeTempDir();
  manySource = path.join(sharedRoot, 'many');
  for (let d = 0; d < 40; d++) {
    const dir = path.join(manySource, `d${String(d).padStart(2, '0')}`);
    fs.mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 250; f++) fs.writeFileSync(path.join(dir, `f${f}.txt`), `file ${d}/${f}\n`);
  }
}, 60_000);

afterAll(async () => {
  if (sharedRoot) await removeTempDir(sharedRoot);
});

/** A 64 GiB sparse file (a few kB of data) beside a small one: a worker spends many seconds inside it, cheaply. */
/** The 64 GiB file is being written: at its name in a staged first copy, or under its temporary name. */
function sparseFileInFlight(dst: string): boolean {
  const parent = path.dirname(dst);
  const staged = fs.readdirSync(parent).map((n) => path.join(parent, n)).filter((where) => stagingPidOf(dst, where) !== undefined);
  for (const where of [dst, ...staged]) {
    if (!fs.existsSync(where)) continue;
    if (fs.readdirSync(where).some((n) => n === 'disk.img' || parseTempName(n)?.finalName === 'disk.img')) return true;
  }
  return false;
}

/** Kills what is left of the CLI's process group (its workers) and waits until it is gone. */
async function killGroup(started: StartedProcess): Promise<void> {
  started.signalGroup('SIGKILL');
  await waitFor(
    () => {
      try {
        process.kill(-started.child.pid!, 0);
        return false;
      } catch {
        return true;
      }
    },
    { description: 'the process group gone' },
  );
}

/** Ctrl-C twice, 100 ms apart, while a worker is deep in the large file. */
async function secondCtrlC(source: string, dst: string): Promise<{ pid: number; result: RunResult }> {
  const started = startCli(['-j', '2', source, dst]);
  try {
    await waitFor(() => sparseFileInFlight(dst), { timeoutMs: 30_000, description: 'the large sparse file in flight' });
    started.signalGroup('SIGINT');
    await sleep(100);
    started.signalGroup('SIGINT');
    return { pid: started.child.pid!, result: await started.result };
  } finally {
    await killGroup(started);
  }
}

describe('a second Ctrl-C', () => {
  it('during a first copy: says where the partial copy is and that the same command resumes it, which it does', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    writeSparseSource(source);
    const dst = path.join(root, 'copy');

    const { pid, result } = await secondCtrlC(source, dst);

    expect(result.exitCode, result.stderr).toBe(130);
    const staging = path.join(root, `.copy.${pid}.foldercopy-part`);
    expect(stderrLines(result).slice(-2)).toEqual([
      'foldercopy: stopped at once',
      `foldercopy: the partial copy is in ${staging}; run the same command again to resume it`,
    ]);
    expect(fs.statSync(staging).isDirectory()).toBe(true);
    expect(fs.existsSync(dst)).toBe(false);

    // The same command again (the large file made small, to keep the test short) adopts it and finishes.
    fs.truncateSync(path.join(source, 'disk.img'), 4096);
    const again = await runCli(['-j', '2', source, dst]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(fs.existsSync(staging)).toBe(false);
    expect(diffTrees(await snapshotTree(source), await snapshotTree(dst), { ignore: ['atime'] })).toEqual([]);
  });

  it('into an existing destination: no word of a staged copy, as there is none', async () => {
    const root = await tempDir();
    const source = path.join(root, 'source');
    writeSparseSource(source);
    const dst = path.join(root, 'copy');
    fs.mkdirSync(dst);

    const { result } = await secondCtrlC(source, dst);

    expect(result.exitCode, result.stderr).toBe(130);
    expect(result.stderr).toMatch(/^foldercopy: stopped at once$/m);
    expect(result.stderr).not.toContain('partial copy');
  });
});

describe('Ctrl-Z under a terminal', () => {
  it('shows the cursor and clears the bar before stopping; after fg the bar is back and the copy finishes (exit 0)', async () => {
    const dst = path.join(await tempDir(), 'copy');
    // A shell with job control (set -m): the copy runs as a job in its own process group, as from an
    // interactive shell. A helper job sends SIGTSTP to that group once files are copied, as Ctrl-Z
    // does; `fg` then waits until the copy stops, and the second `fg` continues it (SIGCONT).
    const script = `
      set -m
      "$1" "$2" -j 1 "$3" "$4" &
      cli=$!
      (
        tries=0
        while [ -z "$(find "$(dirname "$4")" -type f -name 'f*' -print -quit 2>/dev/null)" ] && [ $tries -lt 600 ]; do
          sleep 0.05; tries=$((tries + 1))
        done
        kill -TSTP -$cli
      ) &
      fg %1 >/dev/null
      echo "<fg: $? state: $(cut -d' ' -f3 /proc/$cli/stat)>"
      fg %1 >/dev/null`;

    const result = await runInPty(['sh', '-c', script, 'sh', process.execPath, CLI_PATH, manySource, dst], { timeoutMs: 60_000 });

    expect(result.exitCode, result.output).toBe(0);
    // It really stopped (148 = 128 + SIGTSTP), with the cursor shown and the bar's line cleared first.
    const marker = result.output.indexOf('<fg: 148 state: T>');
    expect(marker, result.output).toBeGreaterThan(0);
    const beforeStop = result.output.slice(0, marker);
    expect(beforeStop.lastIndexOf('\x1b[?25h')).toBeGreaterThan(beforeStop.lastIndexOf('\x1b[?25l'));
    expect(beforeStop).toMatch(/\r\x1b\[2K\x1b\[\?25h\s*$/);
    // After fg: the cursor hidden again for the bar, which is drawn again, and shown at the end.
    const afterContinue = result.output.slice(marker);
    expect(afterContinue).toContain('\x1b[?25l');
    expect(afterContinue).toMatch(/█|░/);
    // The summary is broken between its fields to fit the terminal: joined again here.
    expect(afterContinue.replaceAll('\n  ', ' ')).toMatch(/foldercopy: copied 10,000 files, 41 directories, 0 symlinks, .*; 0 skipped, 0 failed/);
    expect(afterContinue.lastIndexOf('\x1b[?25h')).toBeGreaterThan(afterContinue.lastIndexOf('\x1b[?25l'));
    expect(diffTrees(await snapshotTree(manySource), await snapshotTree(dst), { ignore: ['atime'] })).toEqual([]);
  });
});
