// A copy into a directory other users can write to (a sticky /tmp, a group-writable backup share):
// what another user plants beside the destination (a staging directory, a lock, a probe's name) is
// never adopted, followed or trusted. The attacker is `nobody`; the copy runs as root.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFolder, type CopyWarning } from '../dist/index.js';
import { describeIfRoot, runCli, runCommand } from './helpers/run-cli.js';
import { diffTrees, snapshotTree, useTempDirs, writeTree } from './helpers/tree.js';

const tempDir = useTempDirs();
const RUN_TIMEOUT_MS = 30_000;

/** Runs a shell script as nobody, as the other user of the shared directory. */
async function asNobody(script: string): Promise<void> {
  const result = await runCommand(['sh', '-c', script], { asUser: 'nobody', timeoutMs: 10_000 });
  expect(result.exitCode, result.stderr).toBe(0);
}

/** A root-owned source, and a sticky, world-writable directory for the destination. */
async function sharedSetup(): Promise<{ root: string; src: string; shared: string; dst: string }> {
  const root = await tempDir();
  fs.chmodSync(root, 0o755);
  const src = path.join(root, 'src');
  await writeTree(src, { 'a.txt': 'a\n', 'sub/b.txt': 'b\n', '.hidden': 'h\n' });
  const shared = path.join(root, 'shared');
  fs.mkdirSync(shared);
  fs.chmodSync(shared, 0o1777);
  return { root, src, shared, dst: path.join(shared, 'out') };
}

function stderrLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line !== '');
}

/** The start time of a process (field 22 of /proc/<pid>/stat), as a lock records it. */
function startTimeOf(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

describeIfRoot('in a shared directory, nothing another user planted is adopted or trusted', () => {
  it("a planted staging directory and lock (the issue's reproduction): the copy is root's, holds exactly the source, and the plant is left alone", async () => {
    const { src, shared, dst } = await sharedSetup();
    await asNobody(
      `mkdir ${shared}/.out.99999.foldercopy-part && echo planted > ${shared}/.out.99999.foldercopy-part/evil.sh && ` +
        `chmod 777 ${shared}/.out.99999.foldercopy-part && echo 99999 > ${shared}/.out.foldercopy-lock`,
    );

    const result = await runCli([src, dst], { timeoutMs: RUN_TIMEOUT_MS });

    expect(result.exitCode, result.stderr).toBe(0);
    expect(diffTrees(await snapshotTree(src), await snapshotTree(dst), { mtimePrecision: 'ns' })).toEqual([]);
    const stats = fs.lstatSync(dst);
    expect([stats.uid, stats.gid, stats.mode & 0o7777]).toEqual([0, 0, fs.statSync(src).mode & 0o7777]);
    expect(fs.readdirSync(dst).sort()).toEqual(['.hidden', 'a.txt', 'sub']);
    // Each plant is named in one line; the staging plant stays as it was, the lock is gone with the run.
    expect(stderrLines(result.stderr).slice(0, 2)).toEqual([
      `foldercopy: note: took over a lock no live run holds (it names no run): ${shared}/.out.foldercopy-lock`,
      `foldercopy: note: left alone a directory of user nobody, not a staging directory of this user's: ${shared}/.out.99999.foldercopy-part`,
    ]);
    expect(fs.readFileSync(path.join(shared, '.out.99999.foldercopy-part', 'evil.sh'), 'utf8')).toBe('planted\n');
    expect(fs.readdirSync(shared).sort()).toEqual(['.out.99999.foldercopy-part', 'out']);
  });

  for (const [what, content] of [
    ['the pid of a live process (pid 1)', () => '1\n'],
    ["root's own live run, but in a file nobody owns", () => `${process.pid} ${startTimeOf(process.pid)} 0\n`],
    ['a live pid with the wrong start time', () => `${process.pid} 1 0\n`],
    ['nothing (an empty file, just made)', () => ''],
  ] as const) {
    it(`a lock planted by nobody naming ${what} does not block root's run`, async () => {
      const { src, shared, dst } = await sharedSetup();
      const lock = path.join(shared, '.out.foldercopy-lock');
      fs.writeFileSync(path.join(shared, 'content'), content());
      await asNobody(`cat ${shared}/content > ${lock}`);
      fs.rmSync(path.join(shared, 'content'));

      const result = await runCli([src, dst], { timeoutMs: RUN_TIMEOUT_MS });

      expect(result.exitCode, result.stderr).toBe(0);
      expect(stderrLines(result.stderr)[0]).toMatch(/^foldercopy: note: took over a lock no live run holds \(.+\): .*\.out\.foldercopy-lock$/);
      expect(diffTrees(await snapshotTree(src), await snapshotTree(dst))).toEqual([]);
      expect(fs.readdirSync(shared)).toEqual(['out']);
    });
  }

  it('a symlink or a FIFO at the lock name is neither followed nor waited on, and what a link points to is untouched', async () => {
    const { root, src, shared, dst } = await sharedSetup();
    // A file holding a live pid that the link leads to: read through the link, it would block the run.
    const target = path.join(root, 'target');
    fs.writeFileSync(target, '1\n');
    await asNobody(`ln -s ${target} ${shared}/.out.foldercopy-lock && mkfifo ${shared}/.out2.foldercopy-lock`);

    const linked = await runCli([src, dst], { timeoutMs: RUN_TIMEOUT_MS });
    const fifo = await runCli([src, path.join(shared, 'out2')], { timeoutMs: RUN_TIMEOUT_MS });

    expect(linked.exitCode, linked.stderr).toBe(0);
    expect(stderrLines(linked.stderr)[0]).toMatch(/took over a lock no live run holds \(a symlink\)/);
    expect(fs.readFileSync(target, 'utf8')).toBe('1\n');
    expect(fifo.exitCode, fifo.stderr).toBe(0);
    expect(stderrLines(fifo.stderr)[0]).toMatch(/took over a lock no live run holds \(not a regular file\)/);
    expect(fs.readdirSync(shared).sort()).toEqual(['out', 'out2']);
  });

  it("a live run's lock still refuses, naming its pid and user", async () => {
    const { src, shared, dst } = await sharedSetup();
    // This test's own process stands for the other run.
    fs.writeFileSync(path.join(shared, '.out.foldercopy-lock'), `${process.pid} ${startTimeOf(process.pid)} 0\n`);

    const result = await runCli([src, dst], { timeoutMs: RUN_TIMEOUT_MS });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(`foldercopy: another foldercopy run (pid ${process.pid}, user root) is copying into ${dst}; wait for it to finish or stop it\n`);
    expect(fs.existsSync(dst)).toBe(false);
  });

  it("a symlink planted at the name of this run's own staging directory is not written through: the run takes a fresh name", async () => {
    const { root, src, shared, dst } = await sharedSetup();
    const outside = path.join(root, 'outside');
    fs.mkdirSync(outside);
    fs.chmodSync(outside, 0o777);
    // The library runs in this process: its staging name is known ahead.
    await asNobody(`ln -s ${outside} ${shared}/.out.${process.pid}.foldercopy-part`);
    const warnings: CopyWarning[] = [];

    const summary = await copyFolder(src, dst, { onWarning: (warning) => warnings.push(warning) });

    expect(summary.failures).toEqual([]);
    expect(fs.readdirSync(outside)).toEqual([]);
    expect(diffTrees(await snapshotTree(src), await snapshotTree(dst))).toEqual([]);
    expect(warnings).toEqual([
      {
        code: 'FOREIGN_STAGING',
        path: `${shared}/.out.${process.pid}.foldercopy-part`,
        message: "left alone a symlink, not a staging directory of this user's",
      },
    ]);
    expect(summary.warnings).toEqual(warnings);
    expect(fs.readdirSync(shared).sort()).toEqual([`.out.${process.pid}.foldercopy-part`, 'out']);
  });

  it("names planted where the run probes how names compare do not make it drop a file as a case collision", async () => {
    const { src, shared, dst } = await sharedSetup();
    fs.writeFileSync(path.join(src, 'README'), 'upper\n');
    fs.writeFileSync(path.join(src, 'readme'), 'lower\n');
    const variants = [`.foldercopy-probe-\u00e9.${process.pid}.foldercopy-part`, `.foldercopy-Probe-e\u0301.${process.pid}.foldercopy-part`];
    await asNobody(variants.map((name) => `touch '${shared}/${name}'`).join(' && '));

    const summary = await copyFolder(src, dst);

    expect(summary.failures).toEqual([]);
    expect(fs.readFileSync(path.join(dst, 'README'), 'utf8')).toBe('upper\n');
    expect(fs.readFileSync(path.join(dst, 'readme'), 'utf8')).toBe('lower\n');
  });
});

describe('staging directories a killed run left', () => {
  it('one of ours is adopted, and the copy holds only what the source has now', async () => {
    const root = await tempDir();
    const src = path.join(root, 'src');
    await writeTree(src, { 'a.txt': 'a\n', 'sub/b.txt': 'b\n' });
    const dst = path.join(root, 'out');
    // A killed run's staging: mode 700 as runs make it, an old file the source no longer has, a half-written one.
    const staging = path.join(root, '.out.999999999.foldercopy-part');
    await writeTree(staging, { 'gone.txt': 'deleted from the source since\n', 'sub/b.txt': 'h', 'sub/old/c.txt': 'c\n' });
    fs.chmodSync(staging, 0o700);

    const result = await runCli([src, dst], { timeoutMs: RUN_TIMEOUT_MS });

    expect(result.exitCode, result.stderr).toBe(0);
    expect(diffTrees(await snapshotTree(src), await snapshotTree(dst), { mtimePrecision: 'ns' })).toEqual([]);
    expect(fs.readdirSync(root).sort()).toEqual(['out', 'src']);
  });

  it('one of ours that others could write into is not adopted: left alone, with one line', async () => {
    const root = await tempDir();
    const src = path.join(root, 'src');
    await writeTree(src, { 'a.txt': 'a\n' });
    const dst = path.join(root, 'out');
    const staging = path.join(root, '.out.999999999.foldercopy-part');
    await writeTree(staging, { 'planted.txt': 'x\n' });
    fs.chmodSync(staging, 0o777);

    const result = await runCli([src, dst], { timeoutMs: RUN_TIMEOUT_MS });

    expect(result.exitCode, result.stderr).toBe(0);
    expect(stderrLines(result.stderr)[0]).toBe(
      `foldercopy: note: left alone a directory others can write to, not a staging directory of this user's: ${staging}`,
    );
    expect(fs.readdirSync(dst)).toEqual(['a.txt']);
    expect(fs.readdirSync(staging)).toEqual(['planted.txt']);
  });
});
