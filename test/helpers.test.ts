import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { isAlive, listDescendants, processCommandLine, waitForExit } from './helpers/processes.js';
import { describeIfRoot, runCommand, runInPty, startCommand, waitFor } from './helpers/run-cli.js';
import {
  EDGE_MTIME_NS,
  NFC_E,
  NFD_E,
  NON_UTF8_NAME,
  diffTrees,
  entryKey,
  findTempLeftovers,
  listFilesRecursive,
  makeTempDir,
  oddNamesTree,
  removeTempDir,
  snapshotTree,
  useTempDirs,
  writeTree,
  type EntrySnapshot,
  type RawPath,
  type TreeSnapshot,
} from './helpers/tree.js';

const tempDir = useTempDirs();

function copyWithCp(source: string, destination: string): void {
  execFileSync('cp', ['-a', '--', source, destination]);
}

function entryOf(snapshot: TreeSnapshot, rel: RawPath): EntrySnapshot {
  const entry = snapshot.entries.get(entryKey(rel));
  if (entry === undefined) throw new Error(`no entry ${String(rel)} in ${snapshot.root}`);
  return entry;
}

describe('oddNamesTree written by writeTree', () => {
  let source = '';
  let snapshot: TreeSnapshot;

  beforeAll(async () => {
    source = await makeTempDir();
    await writeTree(source, oddNamesTree());
    snapshot = await snapshotTree(source, { sparse: true });
  });
  afterAll(async () => {
    await removeTempDir(source);
  });

  test('keeps NFC and NFD names apart, and keeps names that are not UTF-8', () => {
    expect(entryOf(snapshot, `accents/caf${NFC_E}.txt`).path).toBe('accents/café.txt');
    expect(entryOf(snapshot, `accents/caf${NFD_E}.txt`).path).toBe('accents/cafe\\u{301}.txt');
    expect(entryOf(snapshot, NON_UTF8_NAME).path).toBe('bytes-\\xff\\xfe.bin');
    expect(entryOf(snapshot, 'with\nnewline.txt').path).toBe('with\\nnewline.txt');
  });

  test('sets exact times, directory times after their contents, and modes', () => {
    expect(entryOf(snapshot, 'times/edge.txt').mtimeNs).toBe(EDGE_MTIME_NS);
    expect(entryOf(snapshot, 'times/dir').mtimeNs).toBe(1_500_000_000_250_000_000n);
    expect(entryOf(snapshot, 'modes/dir-750').mode).toBe(0o750);
    expect(entryOf(snapshot, 'modes/readonly-444.txt').mode).toBe(0o444);
    expect(entryOf(snapshot, 'modes/exec-755.sh').mode).toBe(0o755);
  });

  test('makes links, hard links, a sparse file and an empty dir', () => {
    expect(entryOf(snapshot, 'links/loop-a').linkTarget?.toString()).toBe('loop-b');
    expect(entryOf(snapshot, 'links/dangling').type).toBe('symlink');
    expect(entryOf(snapshot, 'hardlinks/second.txt').hardLinkGroup).toBe('hardlinks/first.txt');
    expect(entryOf(snapshot, 'hardlinks/first.txt').hardLinkGroup).toBe('hardlinks/first.txt');
    expect(entryOf(snapshot, 'sparse.bin')).toMatchObject({ size: 8 * 1024 * 1024, sparse: true });
    expect(entryOf(snapshot, 'random.bin').sparse).toBe(false);
    expect(entryOf(snapshot, 'empty-dir').type).toBe('dir');
  });

  test('a copy made by cp -a has no difference, even to the nanosecond', async () => {
    const copy = path.join(await tempDir(), 'copy');
    copyWithCp(source, copy);
    expect(diffTrees(await snapshotTree(source, { sparse: true }), await snapshotTree(copy, { sparse: true }), { mtimePrecision: 'ns' })).toEqual([]);
  });

  const mutations: { what: string; mutate: (copy: string) => Promise<void>; expected: RegExp }[] = [
    {
      what: 'one byte changed',
      mutate: async (copy) => {
        const handle = await fs.open(path.join(copy, 'random.bin'), 'r+');
        const byte = Buffer.alloc(1);
        await handle.read(byte, 0, 1, 1000);
        await handle.write(Buffer.from([byte[0]! ^ 1]), 0, 1, 1000);
        await handle.close();
      },
      expected: /^random\.bin: content differs/,
    },
    {
      what: 'a mode changed',
      mutate: (copy) => fs.chmod(path.join(copy, 'modes/private-600.txt'), 0o640),
      expected: /^modes\/private-600\.txt: mode 600 != 640$/,
    },
    {
      what: 'an mtime moved by 1 s',
      mutate: async (copy) => {
        execFileSync('touch', ['-m', '-d', '@1600000001.5', path.join(copy, 'times/half-second.txt')]);
      },
      expected: /^times\/half-second\.txt: mtime 1600000000\.500000000 != 1600000001\.500000000$/,
    },
    {
      what: 'a symlink retargeted',
      mutate: async (copy) => {
        await fs.unlink(path.join(copy, 'links/loop-a'));
        await fs.symlink('loop-c', path.join(copy, 'links/loop-a'));
      },
      expected: /^links\/loop-a: link target "loop-b" != "loop-c"$/,
    },
    {
      what: 'a hard link broken',
      mutate: async (copy) => {
        const second = path.join(copy, 'hardlinks/second.txt');
        await fs.copyFile(second, `${second}.tmp`);
        await fs.rename(`${second}.tmp`, second);
      },
      expected: /^hardlinks\/second\.txt: hard-link group "hardlinks\/first\.txt" != null$/,
    },
    {
      what: 'an empty dir removed',
      mutate: (copy) => fs.rmdir(path.join(copy, 'empty-dir')),
      expected: /^empty-dir: missing$/,
    },
    {
      what: 'a name that is not UTF-8 changed by one byte',
      mutate: async (copy) => {
        const renamed = Buffer.from(NON_UTF8_NAME);
        renamed[7] = 0xfd;
        await fs.rename(Buffer.concat([Buffer.from(`${copy}/`), NON_UTF8_NAME]), Buffer.concat([Buffer.from(`${copy}/`), renamed]));
      },
      expected: /^bytes-\\xff\\xfd\.bin: extra$/,
    },
  ];

  test.each(mutations)('diffTrees reports $what', async ({ mutate, expected }) => {
    const copy = path.join(await tempDir(), 'copy');
    copyWithCp(source, copy);
    await mutate(copy);
    const diff = diffTrees(snapshot, await snapshotTree(copy, { sparse: true }));
    expect(diff.some((line) => expected.test(line)), diff.join('\n')).toBe(true);
  });
});

describe('diffTrees', () => {
  test('tells an NFC name from its NFD rename', async () => {
    const source = await tempDir();
    await writeTree(source, { [`caf${NFC_E}.txt`]: 'x' });
    const copy = path.join(await tempDir(), 'copy');
    copyWithCp(source, copy);
    await fs.rename(path.join(copy, `caf${NFC_E}.txt`), path.join(copy, `caf${NFD_E}.txt`));
    const diff = diffTrees(await snapshotTree(source), await snapshotTree(copy), { ignore: ['dirMtime'] });
    expect(diff).toEqual(['café.txt: missing', 'cafe\\u{301}.txt: extra']);
  });

  test('by default accepts a time truncated to its microsecond, but not one a microsecond low or in the next second', async () => {
    const source = await tempDir();
    await writeTree(source, {
      'edge.txt': { type: 'file', content: 'edge', mtime: EDGE_MTIME_NS },
      'nanos.txt': { type: 'file', content: 'nanos', mtime: 1_650_000_000_123_456_789n },
    });
    const copy = path.join(await tempDir(), 'copy');
    copyWithCp(source, copy);
    // What a correct Node copier gets: the microsecond, without the nanoseconds.
    execFileSync('touch', ['-m', '-d', '@1650000000.123456000', path.join(copy, 'nanos.txt')]);
    // What a copier passing the mtime to fs.utimes as a number gets.
    await fs.utimes(path.join(copy, 'edge.txt'), new Date(), 1_700_000_000.999_999_999);

    const [before, after] = [await snapshotTree(source), await snapshotTree(copy)];
    expect(entryOf(after, 'edge.txt').mtimeNs).toBe(1_700_000_001_000_000_000n);
    expect(diffTrees(before, after)).toEqual(['edge.txt: mtime 1700000000.999999999 != 1700000001.000000000']);
    expect(diffTrees(before, after, { mtimePrecision: 'ns' })).toEqual([
      'edge.txt: mtime 1700000000.999999999 != 1700000001.000000000',
      'nanos.txt: mtime 1650000000.123456789 != 1650000000.123456000',
    ]);
    execFileSync('touch', ['-m', '-d', '@1650000000.123455999', path.join(copy, 'nanos.txt')]);
    expect(diffTrees(before, await snapshotTree(copy))).toContain('nanos.txt: mtime 1650000000.123456789 != 1650000000.123455999');
    expect(diffTrees(before, after, { mtimePrecision: 'second' })).toHaveLength(1);
    expect(diffTrees(before, after, { ignore: ['mtime'] })).toEqual([]);
  });

  test('compares atimes when both snapshots have them', async () => {
    const source = await tempDir();
    await writeTree(source, { 'a.txt': { type: 'file', content: 'a', atime: 1_600_000_000_000_000_001n } });
    // Before copying: reading a file with an old atime updates it (relatime).
    const before = await snapshotTree(source, { atime: true });
    expect(entryOf(before, 'a.txt').atimeNs).toBe(1_600_000_000_000_000_001n);
    const copy = path.join(await tempDir(), 'copy');
    copyWithCp(source, copy);
    execFileSync('touch', ['-a', '-d', '@1600000005', path.join(copy, 'a.txt')]);
    expect(diffTrees(before, await snapshotTree(copy, { atime: true }))).toEqual([
      'a.txt: atime 1600000000.000000001 != 1600000005.000000000',
    ]);
  });

  test('reports a type change instead of its details', async () => {
    const [source, copy] = [await tempDir(), await tempDir()];
    await writeTree(source, { x: 'file' });
    await writeTree(copy, { x: { type: 'symlink', target: 'file' } });
    expect(diffTrees(await snapshotTree(source), await snapshotTree(copy), { ignore: ['root'] })).toEqual(['x: type file != symlink']);
  });
});

describe('writeTree', () => {
  test('makes FIFOs with raw names and times, and leaves no scratch entries', async () => {
    const root = await tempDir();
    const fifoName = Buffer.concat([Buffer.from('dir/fifo-'), Buffer.from([0xff])]);
    await writeTree(root, [{ path: fifoName, type: 'fifo', mode: 0o640, mtime: 1_600_000_000.25 }]);
    const fifo = entryOf(await snapshotTree(root), fifoName);
    expect(fifo).toMatchObject({ type: 'fifo', mode: 0o640, mtimeNs: 1_600_000_000_250_000_000n });
    expect((await listFilesRecursive(root)).map((rel) => rel.toString('latin1'))).toEqual([fifoName.toString('latin1')]);
  });

  test('findTempLeftovers matches names at any depth', async () => {
    const root = await tempDir();
    await writeTree(root, { 'a/.x.1.foldercopy-part': '', 'a/b/kept.txt': '', 'c.foldercopy-lock': { type: 'dir' } });
    expect(await findTempLeftovers(root)).toEqual(['a/.x.1.foldercopy-part', 'c.foldercopy-lock']);
  });
});

describe('runInPty', () => {
  test('gives the program a terminal of the asked size', async () => {
    const script = 'process.stdout.write(String(process.stdout.isTTY) + " " + process.stdout.columns)';
    expect(await runInPty([process.execPath, '-e', script], { columns: 77 })).toEqual({ exitCode: 0, output: 'true 77' });
  });

  test('passes odd arguments intact, keeps "\\n" untranslated and returns the exit code', async () => {
    const odd = `it's "odd" $HOME \\ *`;
    const result = await runInPty([process.execPath, '-e', 'console.log(process.argv[1]); process.exitCode = 3', odd]);
    expect(result).toEqual({ exitCode: 3, output: `${odd}\n` });
  });
});

describe('runCommand and startCommand', () => {
  test('capture stdout, stderr and the exit code, without CI or colour variables', async () => {
    vi.stubEnv('CI', 'true');
    vi.stubEnv('FORCE_COLOR', '1');
    try {
      const script =
        'process.stdout.write(JSON.stringify([process.env.CI ?? null, process.env.FORCE_COLOR ?? null, process.env.MINE])); console.error("err"); process.exit(2)';
      const result = await runCommand([process.execPath, '-e', script], { env: { MINE: 'mine' } });
      expect(result).toMatchObject({ exitCode: 2, signal: null, stdout: '[null,null,"mine"]', stderr: 'err\n' });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  test('rejects on timeout and kills the process', async () => {
    const started = startCommand([process.execPath, '-e', 'setInterval(() => {}, 1000)'], { timeoutMs: 300 });
    await expect(started.result).rejects.toThrow(/timed out after 300 ms/);
    const pid = started.child.pid ?? 0;
    await waitFor(() => !isAlive(pid), { timeoutMs: 2000, description: 'the timed-out process to die' });
  });

  test('let a test signal a process mid-run and count its children', async () => {
    const script = `
      const { spawn } = require('node:child_process');
      for (let i = 0; i < 2; i++) spawn('sleep', ['30'], { stdio: ['ignore', 'ignore', 'inherit'] });
      process.on('SIGINT', () => process.exit(130));
      console.error('ready');
      setInterval(() => {}, 1000);`;
    const started = startCommand([process.execPath, '-e', script]);
    const pid = started.child.pid ?? 0;
    await waitFor(() => started.stderrSoFar().includes('ready') && listDescendants(pid).length === 2, {
      description: 'two children',
    });
    const children = listDescendants(pid);
    started.child.kill('SIGINT');
    expect(await started.result).toMatchObject({ exitCode: 130, signal: null });
    // The sleeps were orphaned, not killed, and hold stderr open: the result came after a grace
    // period, and the process group still reaches them.
    expect(children.every(isAlive)).toBe(true);
    started.signalGroup('SIGTERM');
    expect((await waitForExit(children, 5000)).map(processCommandLine)).toEqual([]);
  });
});

describeIfRoot('runCommand as nobody', () => {
  test('runs with uid and gid 65534', async () => {
    const result = await runCommand([process.execPath, '-e', 'process.stdout.write(`${process.getuid()} ${process.getgid()}`)'], {
      asUser: 'nobody',
    });
    expect(result.stdout).toBe('65534 65534');
  });
});
