// A planned copy's first two steps, by the real CLI on real files: --make-plan writes the plan
// (one walk, the parts, the destination's lock in the plan's name), --plan --part copies one part.
// Directories' metadata and empty directories are the finalize's (tested with it), so these tests
// compare what the parts copy: files, symlinks, hard links.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { releasePlanLock } from '../src/destination/plan-lock.js';
import { onDisk } from '../src/parts/format.js';
import { readRecord } from '../src/parts/read-plan.js';
import { lockPathFor, tempPathFor } from '../src/shared/names-on-disk.js';
import { rawFromString } from '../src/shared/raw-path.js';
import { isRoot, runCli, startCli, type RunResult } from './helpers/run-cli.js';
import { diffTrees, findTempLeftovers, oddNamesTree, snapshotTree, useTempDirs, writeTree, type TreeSnapshot } from './helpers/tree.js';

const tempDir = useTempDirs();

const RUN_TIMEOUT_MS = 60_000;
const UID = process.geteuid?.() ?? 0;
/** No scheduler's index leaks in from the environment the tests run in. */
const NO_INDEX = { JOB_COMPLETION_INDEX: undefined, SLURM_ARRAY_TASK_ID: undefined, PARALLEL_SEQ: undefined };

function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
  return runCli(args, { env: { ...NO_INDEX, ...env }, timeoutMs: RUN_TIMEOUT_MS });
}

function lines(text: string): string[] {
  return text.split('\n').filter(Boolean);
}

interface PlanJson {
  format: string;
  version: number;
  id: string;
  parts: number;
  source: string;
  destination: string;
  totals: { files: number; bytes: number; directories: number; symlinks: number; other: number };
  listing: string;
}

const readPlan = (plan: string): PlanJson => JSON.parse(fs.readFileSync(path.join(plan, 'plan.json'), 'utf8')) as PlanJson;
const ndjson = (file: string): Array<Record<string, unknown>> => lines(fs.readFileSync(file, 'utf8')).map((line) => JSON.parse(line) as Record<string, unknown>);
const partFile = (plan: string, k: number): string => path.join(plan, 'parts', `${String(k).padStart(6, '0')}.ndjson`);
const recordFile = (plan: string, k: number): string => path.join(plan, 'records', `${String(k).padStart(6, '0')}.ndjson`);

/** The snapshot without its directories: a part makes them, the finalize gives them their metadata. */
function withoutDirectories(snapshot: TreeSnapshot): TreeSnapshot {
  return { root: snapshot.root, entries: new Map([...snapshot.entries].filter(([, entry]) => entry.type !== 'dir')) };
}

async function planned(parts: number, extra: string[] = []): Promise<{ src: string; dst: string; plan: string; made: RunResult }> {
  const root = await tempDir();
  const src = path.join(root, 'src');
  fs.mkdirSync(src);
  await writeTree(src, oddNamesTree());
  const dst = path.join(root, 'dst');
  const plan = path.join(root, 'plan');
  const made = await cli([src, dst, '--make-plan', plan, '--parts', String(parts), ...extra]);
  return { src, dst, plan, made };
}

describe('--make-plan', () => {
  it('writes plan.json, the directories and every entry in exactly one part (a file\'s names in one), copying nothing', async () => {
    // Enough parts that the small files spread over most: two names of one file would land in two.
    const { src, dst, plan, made } = await planned(16);
    expect(made.stderr).toMatch(/^foldercopy: planned \d+ files, \d+ directories, 6 symlinks, .* in 16 parts: .*plan; 0 failed\n/);
    expect(made.exitCode).toBe(0);
    const header = readPlan(plan);
    expect(header).toMatchObject({ format: 'foldercopy-plan', version: 1, parts: 16, source: src, destination: dst });
    expect(header.id).toMatch(/^[0-9a-f]{32}$/);
    const listed = Array.from({ length: 16 }, (_, k) => k).flatMap((k) => ndjson(partFile(plan, k)).map((entry) => ({ ...entry, part: k })));
    const paths = listed.map((entry) => entry.path as string);
    // Every non-directory of the source once, named exactly (a newline, bytes that are not UTF-8).
    expect(new Set(paths).size).toBe(paths.length);
    expect(paths).toContain('with\nnewline.txt');
    expect(paths).toContain('bytes-\udcff\udcfe.bin');
    expect(header.totals.files + header.totals.symlinks + header.totals.other).toBe(paths.length);
    const hardLinked = listed.filter((entry) => (entry.path as string).startsWith('hardlinks/'));
    expect(hardLinked.map((entry) => entry.part)).toEqual([hardLinked[0]!.part, hardLinked[0]!.part]);
    expect(ndjson(path.join(plan, 'directories.ndjson'))[0]).toMatchObject({ path: '' });
    // The destination's root is made, and nothing in it; its lock names the plan.
    expect(fs.readdirSync(dst)).toEqual([]);
    expect(fs.readFileSync(lockPathFor(dst), 'utf8')).toBe(`plan ${header.id} ${UID} ${JSON.stringify(plan)}\n`);
    expect(fs.readdirSync(path.join(plan, 'records'))).toEqual([]);
  });

  it('refuses (exit 2, one line) when --max-part-files needs more parts than --parts, naming how many; writes nothing', async () => {
    const { dst, plan, made } = await planned(2, ['--max-part-files', '5']);
    expect(made.exitCode).toBe(2);
    expect(lines(made.stderr)).toEqual([expect.stringMatching(/^foldercopy: \d+ entries at 5 files a part need 7 parts: give --parts 7 or more \(or a larger --max-part-files\)$/)]);
    expect(fs.existsSync(plan)).toBe(false);
    expect(fs.existsSync(dst)).toBe(false);
    expect(fs.existsSync(lockPathFor(dst))).toBe(false);
  });

  it('refuses a second plan into the same destination while the first is not finalized', async () => {
    const { src, dst, plan } = await planned(1);
    const other = `${plan}-2`;
    const second = await cli([src, dst, '--make-plan', other, '--parts', '1']);
    expect(second.exitCode).toBe(2);
    expect(lines(second.stderr)).toEqual([
      `foldercopy: ${dst}: a planned copy (plan ${readPlan(plan).id} in ${plan}) is in progress; run its --finalize, or remove ${lockPathFor(dst)}`,
    ]);
    expect(fs.existsSync(other)).toBe(false);
  });

  it('refuses a plan directory that is not empty, and the refusals of a copy (the destination inside the source)', async () => {
    const root = await tempDir();
    await writeTree(root, { 'src/a.txt': 'a\n', 'plan/something': 'x' });
    const src = path.join(root, 'src');
    const busy = await cli([src, path.join(root, 'dst'), '--make-plan', path.join(root, 'plan'), '--parts', '1']);
    expect(busy.exitCode).toBe(2);
    expect(lines(busy.stderr)).toEqual([`foldercopy: the plan directory exists and is not empty: ${path.join(root, 'plan')}`]);
    const inside = await cli([src, path.join(src, 'copy'), '--make-plan', path.join(root, 'plan2'), '--parts', '1']);
    expect(inside.exitCode).toBe(2);
    expect(lines(inside.stderr)).toEqual([expect.stringContaining('the destination is inside the source')]);
    expect(fs.existsSync(path.join(root, 'plan2'))).toBe(false);
  });
  it('refuses (exit 2, one line) what cannot be planned, and the flags of a planned copy without one', async () => {
    const root = await tempDir();
    await writeTree(root, { 'src/a.txt': 'a\n' });
    const [src, dst, plan] = ['src', 'dst', 'plan'].map((name) => path.join(root, name)) as [string, string, string];
    for (const [args, line] of [
      [[src, dst, '--make-plan', plan, '--parts', '2', '--dry-run'], '--dry-run cannot be planned: copy without a plan to use it'],
      [[src, dst, '--make-plan', plan, '--parts', '2', '--manifest', path.join(root, 'm')], '--manifest cannot be planned: copy without a plan to use it'],
      [[src, dst, '--make-plan', plan], '--make-plan needs --parts P: how many parts (tasks) to split the copy into'],
      [[src, dst, '--make-plan', plan, '--parts', '0'], '--parts must be a whole number from 1 to 100000, got 0'],
      [[src, dst, '--make-plan', plan, '--parts', '2', '--part', '1'], '--part cannot be given with --make-plan'],
      [[src, dst, '--parts', '2'], '--parts is for a planned copy: give it with --make-plan (see foldercopy --help)'],
      [[src, dst, '--part', '1'], '--part is for a planned copy: give it with --plan (see foldercopy --help)'],
    ] as const) {
      const result = await cli([...args]);
      expect(result.exitCode).toBe(2);
      expect(lines(result.stderr)).toEqual([`foldercopy: ${line}`]);
    }
    expect(fs.readdirSync(root)).toEqual(['src']);
  });
});

describe('--plan --part', () => {
  it('copies all parts, one after another, to a destination identical to the source (bytes, modes, times, links, the hard link)', async () => {
    const { src, dst, plan } = await planned(3);
    for (const k of [0, 1, 2]) {
      const result = await cli(['--plan', plan, '--part', String(k)]);
      expect(result.stderr).toMatch(/ 0 skipped, 0 failed\n$/);
      expect(result.exitCode).toBe(0);
    }
    expect(diffTrees(withoutDirectories(await snapshotTree(src)), withoutDirectories(await snapshotTree(dst)), { mtimePrecision: 'ns' })).toEqual([]);
    expect(await findTempLeftovers(dst)).toEqual([]);
    const id = readPlan(plan).id;
    for (const k of [0, 1, 2]) {
      const record = ndjson(recordFile(plan, k));
      const done = record.pop()!;
      expect(done).toMatchObject({ done: true, part: k, plan: id, counts: { copied: record.length, kept: 0, failed: 0 } });
      expect(record.map((entry) => entry.path)).toEqual(ndjson(partFile(plan, k)).map((entry) => entry.path));
      // As the plan's check reads it: each recorded path names, byte for byte, an entry of the copy.
      const read = readRecord(plan, k)!;
      expect(read.done).toMatchObject({ part: k, plan: id });
      for (const entry of read.entries) expect(fs.lstatSync(onDisk(dst, entry.path)).isDirectory()).toBe(false);
    }
  });

  it('run twice, the second run keeps what the first copied: the same destination, a record of the same entries, all kept', async () => {
    const { src, dst, plan } = await planned(2);
    expect((await cli(['--plan', plan, '--part', '1'])).exitCode).toBe(0);
    const first = ndjson(recordFile(plan, 1));
    const copied = withoutDirectories(await snapshotTree(dst));
    const again = await cli(['--plan', plan, '--part', '1']);
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toMatch(/^foldercopy: copied 0 files, 0 directories, 0 symlinks, 0 B .*; \d+ skipped, 0 failed\n$/);
    expect(diffTrees(copied, withoutDirectories(await snapshotTree(dst)), { mtimePrecision: 'ns' })).toEqual([]);
    const second = ndjson(recordFile(plan, 1));
    const entriesOf = (record: Array<Record<string, unknown>>): unknown[] => record.slice(0, -1).map(({ path: name, size }) => ({ name, size }));
    expect(entriesOf(second)).toEqual(entriesOf(first));
    expect(second.slice(0, -1).every((entry) => entry.outcome === 'kept')).toBe(true);
    expect(first.slice(0, -1).every((entry) => entry.outcome === 'copied')).toBe(true);
    expect(src).toBeTruthy();
  });

  it('runs the same part twice at once harmlessly: both exit 0, the copy is whole', async () => {
    const { src, dst, plan } = await planned(1);
    const runs = [startCli(['--plan', plan, '--part', '0'], { env: NO_INDEX }), startCli(['--plan', plan, '--part', '0'], { env: NO_INDEX })];
    try {
      const results = await Promise.all(runs.map((run) => run.result));
      expect(results.map((result) => result.exitCode)).toEqual([0, 0]);
    } finally {
      for (const run of runs) run.signalGroup('SIGKILL');
    }
    expect(diffTrees(withoutDirectories(await snapshotTree(src)), withoutDirectories(await snapshotTree(dst)), { mtimePrecision: 'ns' })).toEqual([]);
    expect(await findTempLeftovers(dst)).toEqual([]);
  });

  it("leaves another run's file being written in a directory it writes into (parts run at once share directories)", async () => {
    const { dst, plan } = await planned(1);
    expect((await cli(['--plan', plan, '--part', '0', '-q'])).exitCode).toBe(0);
    // As a part on another host writes it now: an ordinary re-run would sweep it as a killed run's.
    const inFlight = tempPathFor(path.join(dst, 'nested', 'new.txt'), 4_000_000);
    fs.writeFileSync(inFlight, 'half of it');
    fs.utimesSync(path.join(dst, 'nested'), 1, 1);
    fs.writeFileSync(path.join(dst, 'nested/a/b/c/deep.txt'), 'changed\n');
    expect((await cli(['--plan', plan, '--part', '0', '-q'])).exitCode).toBe(0);
    expect(fs.readFileSync(path.join(dst, 'nested/a/b/c/deep.txt'), 'utf8')).toBe('deep\n');
    expect(fs.readFileSync(inFlight, 'utf8')).toBe('half of it');
  });

  it.each([
    ['JOB_COMPLETION_INDEX', '1'],
    ['SLURM_ARRAY_TASK_ID', '1'],
    ['PARALLEL_SEQ', '2'],
  ])('takes the part from %s=%s without --part', async (name, value) => {
    const { plan } = await planned(3);
    const result = await cli(['--plan', plan, '-q', '--json'], { [name]: value });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'ok', part: 1, plan: readPlan(plan).id });
    expect(fs.readdirSync(path.join(plan, 'records'))).toEqual(['000001.ndjson']);
    expect(ndjson(recordFile(plan, 1)).pop()).toMatchObject({ done: true, part: 1 });
  });

  it('refuses (exit 2, one line) a part the plan does not have, or none at all', async () => {
    const { plan } = await planned(2);
    const beyond = await cli(['--plan', plan, '--part', '2']);
    expect(beyond.exitCode).toBe(2);
    expect(lines(beyond.stderr)).toEqual(['foldercopy: there is no part 2: the plan has 2 parts, 0 to 1']);
    const none = await cli(['--plan', plan]);
    expect(none.exitCode).toBe(2);
    expect(lines(none.stderr)).toEqual([
      'foldercopy: no part given: give --part K (0 to 1), or run under a scheduler that sets one of JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, PARALLEL_SEQ',
    ]);
    const seq = await cli(['--plan', plan], { PARALLEL_SEQ: '3' });
    expect(seq.exitCode).toBe(2);
    expect(lines(seq.stderr)).toEqual(['foldercopy: PARALLEL_SEQ=3 names no part: the plan has 2 parts, 0 to 1 (PARALLEL_SEQ counts from 1)']);
    expect(fs.readdirSync(path.join(plan, 'records'))).toEqual([]);
  });

  it('refuses (exit 2, one line) copy options, a source or a destination: they are fixed at planning', async () => {
    const { dst, plan } = await planned(1);
    for (const [args, line] of [
      [['--exclude', '*.txt'], '--exclude cannot be given to a part: options are fixed at planning (give them to --make-plan)'],
      [['--delete'], '--delete cannot be given to a part: options are fixed at planning (give them to --make-plan)'],
      [['--no-xattrs'], '--no-xattrs cannot be given to a part: options are fixed at planning (give them to --make-plan)'],
      [['--checksum'], '--checksum cannot be given to a part: options are fixed at planning (give them to --make-plan)'],
      [['--parts', '2'], '--parts cannot be given to a part: options are fixed at planning (give them to --make-plan)'],
      [[dst], '--plan takes no source or destination: they are in the plan'],
    ] as const) {
      const result = await cli(['--plan', plan, '--part', '0', ...args]);
      expect(result.exitCode).toBe(2);
      expect(lines(result.stderr)).toEqual([`foldercopy: ${line}`]);
    }
    expect(fs.readdirSync(dst)).toEqual([]);
  });

  it('records a file that vanished since planning as failed, with its code; the part exits 1 and copies the rest', async () => {
    const { src, dst, plan } = await planned(1);
    fs.rmSync(path.join(src, 'with space.txt'));
    const result = await cli(['--plan', plan, '--part', '0']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`foldercopy: cannot stat: ${path.join(src, 'with space.txt')}: no such file or directory (ENOENT)`);
    const record = ndjson(recordFile(plan, 0));
    const done = record.pop()!;
    expect(record.find((entry) => entry.path === 'with space.txt')).toEqual({ path: 'with space.txt', outcome: 'failed', size: 6, code: 'ENOENT' });
    expect(done).toMatchObject({ done: true, counts: { copied: record.length - 1, kept: 0, failed: 1 } });
    expect(fs.readFileSync(path.join(dst, 'nested/a/b/c/deep.txt'), 'utf8')).toBe('deep\n');
  });
});

describe("the plan's destination lock", () => {
  it('refuses an ordinary run into the destination until the plan releases it', async () => {
    const { src, dst, plan } = await planned(1);
    const ordinary = await cli([src, dst]);
    expect(ordinary.exitCode).toBe(2);
    expect(lines(ordinary.stderr)).toEqual([
      `foldercopy: ${dst}: a planned copy (plan ${readPlan(plan).id} in ${plan}) is in progress; run its --finalize, or remove ${lockPathFor(dst)}`,
    ]);
    expect(fs.readdirSync(dst)).toEqual([]);
    // Only its own plan's lock is released.
    expect(releasePlanLock(rawFromString(dst), '0'.repeat(32))).toBe(false);
    expect(releasePlanLock(rawFromString(dst), readPlan(plan).id)).toBe(true);
    expect(fs.existsSync(lockPathFor(dst))).toBe(false);
    expect((await cli([src, dst, '-q'])).exitCode).toBe(0);
  });

  it.skipIf(!isRoot())("is not trusted in a file of another user than it names (taken over, with a note); a dead run's lock is taken over by planning", async () => {
    const root = await tempDir();
    await writeTree(root, { 'src/a.txt': 'a\n' });
    const [src, dst, plan] = ['src', 'dst', 'plan'].map((name) => path.join(root, name)) as [string, string, string];
    fs.writeFileSync(lockPathFor(dst), `plan ${'a'.repeat(32)} 0 ${JSON.stringify(plan)}\n`);
    fs.chownSync(lockPathFor(dst), 65534, 65534);
    const ordinary = await cli([src, dst]);
    expect(ordinary.exitCode).toBe(0);
    expect(ordinary.stderr).toContain(`foldercopy: note: took over a lock no live run holds (it names user root but belongs to nobody): ${lockPathFor(dst)}`);
    // A lock naming a pid no process has (4,000,000 is above the kernel's pid limit).
    fs.writeFileSync(lockPathFor(dst), '4000000 1 0\n');
    const made = await cli([src, dst, '--make-plan', plan, '--parts', '1']);
    expect(made.exitCode).toBe(0);
    expect(made.stderr).toContain(`foldercopy: note: took over a lock no live run holds (pid 4000000 is not the run that wrote it): ${lockPathFor(dst)}`);
    expect(fs.readFileSync(lockPathFor(dst), 'utf8')).toBe(`plan ${readPlan(plan).id} ${UID} ${JSON.stringify(plan)}\n`);
  });

  it('is made again by a part that finds it gone, and refuses a part of another plan', async () => {
    const { src, dst, plan } = await planned(1);
    fs.rmSync(lockPathFor(dst));
    expect((await cli(['--plan', plan, '--part', '0', '-q'])).exitCode).toBe(0);
    expect(fs.readFileSync(lockPathFor(dst), 'utf8')).toBe(`plan ${readPlan(plan).id} ${UID} ${JSON.stringify(plan)}\n`);
    // A second plan made while the lock was gone: its parts are refused while the first holds it.
    fs.rmSync(lockPathFor(dst));
    const other = `${plan}-2`;
    expect((await cli([src, dst, '--make-plan', other, '--parts', '1', '--overwrite'])).exitCode).toBe(0);
    fs.rmSync(lockPathFor(dst));
    expect((await cli(['--plan', plan, '--part', '0', '-q'])).exitCode).toBe(0);
    const refused = await cli(['--plan', other, '--part', '0']);
    expect(refused.exitCode).toBe(2);
    expect(lines(refused.stderr)).toEqual([expect.stringContaining(`a planned copy (plan ${readPlan(plan).id} in ${plan}) is in progress`)]);
  });
});
