// What `cp -a` keeps beyond bytes and modes: extended attributes (user.*, trusted.*, security.*),
// POSIX ACLs (access and default, as system.posix_acl_* attributes), file capabilities, and times
// to the nanosecond on files, directories and symlinks. Attributes are set and read with python3
// (os.setxattr, os.listxattr), never with the attr or acl packages, which CI machines lack.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { describeIfRoot, runCli } from './helpers/run-cli.js';
import { diffTrees, snapshotTree, useTempDirs, writeTree } from './helpers/tree.js';

const tempDir = useTempDirs();

const SETUP = String.raw`
import os, struct, sys
root = sys.argv[1]
p = lambda *names: os.path.join(root, *names)
def acl(*entries):
    return struct.pack('<I', 2) + b''.join(struct.pack('<HHI', tag, perm, ident) for tag, perm, ident in entries)
ANY = 0xFFFFFFFF
# user::rw- user:1000:r-- group::r-- mask::r-- other::---
access = acl((1, 6, ANY), (2, 4, 1000), (4, 4, ANY), (0x10, 4, ANY), (0x20, 0, ANY))
# user::rwx group::r-x other::r-x
default = acl((1, 7, ANY), (4, 5, ANY), (0x20, 5, ANY))
os.setxattr(p('noted'), 'user.note', b'hello')
os.setxattr(p('noted'), 'user.empty', b'')
os.setxattr(p('noted'), 'trusted.secret', b'\x00\x01binary')
os.setxattr(p('acl-file'), 'system.posix_acl_access', access)
os.setxattr(p('dir'), 'system.posix_acl_default', default)
os.setxattr(p('dir'), 'system.posix_acl_access', access)
os.setxattr(p('dir'), 'user.dir', b'of a directory')
os.setxattr(p('dir', 'inner'), 'user.inner', b'deep')
os.setxattr(p('link'), 'trusted.link', b'on the link itself', follow_symlinks=False)
# cap_net_bind_service+ep: VFS_CAP_REVISION_2 | effective, permitted bit 10, nothing inheritable
os.setxattr(p('capable'), 'security.capability', struct.pack('<IIIII', 0x02000001, 1 << 10, 0, 0, 0))
times = {'noted': 1577836800123456789, 'dir': 1577836800987654321, 'link': 1577836801000000001, 'dir/inner': 1600000000111111111, 'suid': 1600000000222222222}
for name, ns in times.items():
    os.utime(p(name), ns=(ns - 7, ns), follow_symlinks=False)
`;

const DUMP = String.raw`
import json, os, sys
root = sys.argv[1]
out = {}
for dirpath, dirnames, filenames in os.walk(root):
    for name in [''] + dirnames + filenames if dirpath == root else dirnames + filenames:
        full = os.path.join(dirpath, name) if name else dirpath
        rel = os.path.relpath(full, root)
        out[rel] = {n: os.getxattr(full, n, follow_symlinks=False).hex() for n in sorted(os.listxattr(full, follow_symlinks=False)) if not n.startswith('security.selinux')}
print(json.dumps(out))
`;

// A POSIX ACL attribute as the kernel takes it: a version, then (tag, permissions, id) per entry, in tag order.
const SET_ACL = String.raw`
import json, os, struct, sys
entries = json.loads(sys.argv[3])
os.setxattr(sys.argv[1], sys.argv[2], struct.pack('<I', 2) + b''.join(struct.pack('<HHI', *entry) for entry in entries))
`;
const [USER_OBJ, USER, GROUP_OBJ, MASK, OTHER] = [0x01, 0x02, 0x04, 0x10, 0x20];
const ANY_ID = 0xffffffff;

function python(script: string, ...args: string[]): string {
  return execFileSync('python3', ['-c', script, ...args], { encoding: 'utf8' });
}

function xattrsOf(root: string): Record<string, Record<string, string>> {
  return JSON.parse(python(DUMP, root)) as Record<string, Record<string, string>>;
}

function setAcl(target: string, name: string, entries: Array<[tag: number, permissions: number, id: number]>): void {
  python(SET_ACL, target, name, JSON.stringify(entries));
}

/**
 * Gives `directory` a default ACL, user::rwx user:1000:rwx group::r-x mask::rwx other::r-x: every file
 * and directory made in it inherits an access ACL, and a directory this default ACL too. It takes no
 * bit from a usual mode, so modes alone do not show it; `masking` (mask::r-x other::---) takes some.
 */
function handDownAcls(directory: string, { masking = false } = {}): void {
  setAcl(directory, 'system.posix_acl_default', [
    [USER_OBJ, 7, ANY_ID],
    [USER, 7, 1000],
    [GROUP_OBJ, 5, ANY_ID],
    [MASK, masking ? 5 : 7, ANY_ID],
    [OTHER, masking ? 0 : 5, ANY_ID],
  ]);
}

/** The source tree, plus a directory and a large file (copied in the kernel) without ACLs. */
async function sourceTreeWithPlainEntries(): Promise<{ root: string; src: string }> {
  const tree = await sourceTree();
  await writeTree(tree.src, {
    'plain-dir': { type: 'dir', mode: 0o750 },
    'plain-dir/file': { type: 'file', content: 'in a directory without ACLs\n', mode: 0o604 },
    large: 'x'.repeat(8 * 1024 * 1024),
  });
  return tree;
}

/** mtimes to the nanosecond, without following symlinks. */
function mtimesOf(root: string, names: string[]): Record<string, bigint> {
  return Object.fromEntries(names.map((name) => [name, fs.lstatSync(path.join(root, name), { bigint: true }).mtimeNs]));
}

/** atime and mtime of every entry to the nanosecond, without following symlinks. */
function timesOf(root: string, names: string[]): Record<string, [bigint, bigint]> {
  return Object.fromEntries(
    names.map((name) => {
      const stats = fs.lstatSync(path.join(root, name), { bigint: true });
      return [name, [stats.atimeNs, stats.mtimeNs]];
    }),
  );
}

async function sourceTree(): Promise<{ root: string; src: string }> {
  const root = await tempDir();
  const src = path.join(root, 'src');
  await writeTree(src, {
    noted: 'a file with attributes\n',
    'acl-file': 'a file with an access ACL\n',
    capable: '#!/bin/sh\n',
    suid: { type: 'file', content: '#!/bin/sh\n', mode: 0o4755 },
    plain: 'nothing special\n',
    'dir/inner': 'a file in a directory with a default ACL\n',
    link: { type: 'symlink', target: 'noted' },
  });
  fs.chownSync(path.join(src, 'suid'), 1000, 1000);
  fs.chmodSync(path.join(src, 'suid'), 0o4755);
  python(SETUP, src);
  return { root, src };
}

const TIMED = ['noted', 'dir', 'link', 'dir/inner', 'suid'];

describeIfRoot('extended attributes, ACLs, capabilities and nanosecond times', () => {
  it('copies them all as cp -a does, with the source modes and owners', async () => {
    const { root, src } = await sourceTree();
    // Times first: listing a directory or reading a link moves its atime.
    const sourceTimes = timesOf(src, TIMED);
    const dst = path.join(root, 'dst');
    const result = await runCli([src, dst, '--json']);
    expect(timesOf(dst, TIMED)).toEqual(sourceTimes);
    const sourceAttributes = xattrsOf(src);
    expect(result.stderr).not.toContain('not supported');
    expect(result.exitCode).toBe(0);
    expect(xattrsOf(dst)).toEqual(sourceAttributes);
    // The ACL bytes, the capability and the ordinary attributes are the very ones of the source.
    expect(Object.keys(xattrsOf(dst)['acl-file']!)).toEqual(['system.posix_acl_access']);
    expect(Object.keys(xattrsOf(dst).capable!)).toEqual(['security.capability']);
    expect(diffTrees(await snapshotTree(src), await snapshotTree(dst), { mtimePrecision: 'ns', ignore: ['atime'] })).toEqual([]);
    expect(fs.statSync(path.join(dst, 'suid')).mode & 0o7777).toBe(0o4755);
    expect(fs.statSync(path.join(dst, 'acl-file')).mode & 0o777).toBe(fs.statSync(path.join(src, 'acl-file')).mode & 0o777);
    const summary = JSON.parse(result.stdout) as { metadataNotKept: Record<string, number> };
    expect(Object.values(summary.metadataNotKept).every((count) => count === 0)).toBe(true);
  });

  it.skipIf(!fs.existsSync('/usr/sbin/getcap'))('a capability is one getcap reads back', async () => {
    const { root, src } = await sourceTree();
    const dst = path.join(root, 'dst');
    expect((await runCli([src, dst])).exitCode).toBe(0);
    expect(execFileSync('/usr/sbin/getcap', [path.join(dst, 'capable')], { encoding: 'utf8' })).toContain('cap_net_bind_service=ep');
  });

  it('a re-run repairs attributes changed at the source in place, counting the file as skipped', async () => {
    const { root, src } = await sourceTree();
    const dst = path.join(root, 'dst');
    expect((await runCli([src, dst])).exitCode).toBe(0);
    const inode = fs.statSync(path.join(dst, 'noted')).ino;
    python(
      String.raw`
import os, sys
os.setxattr(sys.argv[1] + '/noted', 'user.note', b'changed')
os.removexattr(sys.argv[1] + '/noted', 'user.empty')
os.setxattr(sys.argv[1] + '/plain', 'user.new', b'now')
os.removexattr(sys.argv[1] + '/dir', 'user.dir')
os.removexattr(sys.argv[1] + '/acl-file', 'system.posix_acl_access')
os.chmod(sys.argv[1] + '/acl-file', 0o640)`,
      src,
    );
    // Changing attributes changes no mtime: the files are up to date by the quick check.
    const result = await runCli([src, dst, '--json']);
    expect(result.exitCode).toBe(0);
    const summary = JSON.parse(result.stdout) as { counts: { overwritten: number; skipped: number } };
    expect(summary.counts.overwritten).toBe(0);
    expect(xattrsOf(dst)).toEqual(xattrsOf(src));
    expect(fs.statSync(path.join(dst, 'noted')).ino).toBe(inode);
    expect(fs.statSync(path.join(dst, 'acl-file')).mode & 0o7777).toBe(0o640);
    expect(mtimesOf(dst, TIMED)).toEqual(mtimesOf(src, TIMED));
  });

  // Why a kept file's source attributes are listed on every re-run, although its change time is older
  // than its copy's: the copy may come from a run or a tool that left them out (cp -p, rsync -a, --no-xattrs).
  it('a re-run gives the source attributes to a copy made without them after the source last changed, without rewriting it', async () => {
    const { root, src } = await sourceTree();
    const dst = path.join(root, 'dst');
    expect((await runCli([src, dst, '--no-xattrs'])).exitCode).toBe(0);
    const copy = path.join(dst, 'noted');
    const inode = fs.statSync(copy).ino;
    expect(fs.statSync(path.join(src, 'noted'), { bigint: true }).ctimeNs).toBeLessThan(fs.statSync(copy, { bigint: true }).ctimeNs);

    const result = await runCli([src, dst, '--json']);

    expect(result.exitCode, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { counts: { overwritten: number } }).counts.overwritten).toBe(0);
    expect(fs.statSync(copy).ino).toBe(inode);
    // Regular files (and directories); a kept symlink is not given anything in place.
    const { link: _copiedLink, ...copied } = xattrsOf(dst);
    const { link: _sourceLink, ...source } = xattrsOf(src);
    expect(copied).toEqual(source);
  });

  it('a re-run gives a copy made to the microsecond its nanoseconds, without rewriting it', async () => {
    const { root, src } = await sourceTree();
    const dst = path.join(root, 'dst');
    expect((await runCli([src, dst])).exitCode).toBe(0);
    const copy = path.join(dst, 'noted');
    const inode = fs.statSync(copy).ino;
    // As an older foldercopy left it: the microsecond only.
    python('import os, sys; os.utime(sys.argv[1], ns=(1577836800123456000, 1577836800123456000))', copy);
    const result = await runCli([src, dst, '--json']);
    expect(result.exitCode).toBe(0);
    expect((JSON.parse(result.stdout) as { counts: { overwritten: number } }).counts.overwritten).toBe(0);
    expect(fs.statSync(copy).ino).toBe(inode);
    expect(fs.statSync(copy, { bigint: true }).mtimeNs).toBe(fs.statSync(path.join(src, 'noted'), { bigint: true }).mtimeNs);
  });

  it('--no-xattrs copies none, and still the times to the nanosecond', async () => {
    const { root, src } = await sourceTree();
    const dst = path.join(root, 'dst');
    const sourceTimes = timesOf(src, TIMED);
    const result = await runCli([src, dst, '--no-xattrs']);
    expect(timesOf(dst, TIMED)).toEqual(sourceTimes);
    expect(result.exitCode).toBe(0);
    expect(Object.values(xattrsOf(dst)).filter((attributes) => Object.keys(attributes).length > 0)).toEqual([]);
  });

  it('a destination that holds no attributes (ramfs) gets the copy, and the summary says once what was not kept', async () => {
    const { root, src } = await sourceTree();
    const mount = path.join(root, 'ramfs');
    fs.mkdirSync(mount);
    execFileSync('mount', ['-t', 'ramfs', 'ramfs', mount]);
    try {
      const dst = path.join(mount, 'dst');
      const result = await runCli([src, dst, '--json']);
      expect(result.exitCode).toBe(0);
      // noted, capable, dir, dir/inner and link lose attributes; acl-file and dir lose ACLs.
      expect(result.stderr).toContain('foldercopy: 5 entries: extended attributes not supported by the destination');
      expect(result.stderr).toContain('foldercopy: 2 entries: ACLs not supported by the destination');
      expect(result.stderr.match(/not supported by the destination/g)).toHaveLength(2);
      const summary = JSON.parse(result.stdout) as { metadataNotKept: Record<string, number>; counts: { failed: number } };
      expect(summary.metadataNotKept).toEqual({ xattrsNotSupported: 5, aclsNotSupported: 2, xattrsRefused: 0, unavailable: 0 });
      expect(summary.counts.failed).toBe(0);
      expect(fs.readFileSync(path.join(dst, 'dir/inner'), 'utf8')).toBe('a file in a directory with a default ACL\n');
      expect(fs.statSync(path.join(dst, 'suid')).mode & 0o7777).toBe(0o4755);
      expect(fs.statSync(path.join(dst, 'acl-file')).mode & 0o777).toBe(fs.statSync(path.join(src, 'acl-file')).mode & 0o777);
      expect(mtimesOf(dst, TIMED)).toEqual(mtimesOf(src, TIMED));
    } finally {
      execFileSync('umount', [mount]);
    }
  });

  it('a destination directory with a default ACL hands nothing down to copies whose source has no ACL, as with cp -a', async () => {
    const { root, src } = await sourceTreeWithPlainEntries();
    const dst = path.join(root, 'dst');
    fs.mkdirSync(dst);
    handDownAcls(dst);

    const result = await runCli([src, dst]);

    expect(result.exitCode, result.stderr).toBe(0);
    const copied = xattrsOf(dst);
    expect(copied).toEqual(xattrsOf(src));
    const aclsOf = (name: string): string[] => Object.keys(copied[name]!).filter((attribute) => attribute.startsWith('system.posix_acl_'));
    for (const name of ['.', 'plain', 'large', 'plain-dir', 'plain-dir/file', 'dir/inner']) expect(aclsOf(name), name).toEqual([]);
    // What the source has is still copied: an access ACL on a file, both ACLs on a directory.
    expect(aclsOf('acl-file')).toEqual(['system.posix_acl_access']);
    expect(aclsOf('dir')).toEqual(['system.posix_acl_access', 'system.posix_acl_default']);
    expect(diffTrees(await snapshotTree(src), await snapshotTree(dst), { mtimePrecision: 'ns', ignore: ['atime'] })).toEqual([]);
  });

  it('a first copy made in a directory with a default ACL that masks modes gets no ACL from it, and the source modes', async () => {
    const { root, src } = await sourceTreeWithPlainEntries();
    const shared = path.join(root, 'shared');
    fs.mkdirSync(shared);
    handDownAcls(shared, { masking: true });
    const dst = path.join(shared, 'dst');

    const result = await runCli([src, dst]);

    expect(result.exitCode, result.stderr).toBe(0);
    const copied = xattrsOf(dst);
    expect(copied).toEqual(xattrsOf(src));
    expect(copied['.']).toEqual({});
    expect(fs.statSync(path.join(dst, 'plain-dir/file')).mode & 0o7777).toBe(0o604);
    expect(diffTrees(await snapshotTree(src), await snapshotTree(dst), { mtimePrecision: 'ns', ignore: ['atime'] })).toEqual([]);
  });

  it('--no-xattrs copies no ACL, and lets the destination hand none down either, leaving its own alone', async () => {
    const root = await tempDir();
    const src = path.join(root, 'src');
    await writeTree(src, { 'a.txt': 'a\n', 'sub/b.txt': { type: 'file', content: 'b\n', mode: 0o640 } });
    const dst = path.join(root, 'dst');
    fs.mkdirSync(dst);
    handDownAcls(dst);

    const result = await runCli([src, dst, '--no-xattrs']);

    expect(result.exitCode, result.stderr).toBe(0);
    const { '.': own, ...copied } = xattrsOf(dst);
    expect(Object.keys(own!)).toEqual(['system.posix_acl_default']);
    expect(copied).toEqual({ 'a.txt': {}, sub: {}, 'sub/b.txt': {} });
    expect(diffTrees(await snapshotTree(src), await snapshotTree(dst), { mtimePrecision: 'ns', ignore: ['atime'] })).toEqual([]);
  });

  it('a re-run removes the ACL a kept copy inherited in a directory with a default ACL, without rewriting it', async () => {
    const root = await tempDir();
    const src = path.join(root, 'src');
    await writeTree(src, { 'sub/kept.txt': { type: 'file', content: 'kept\n', mode: 0o640 } });
    const dst = path.join(root, 'dst');
    expect((await runCli([src, dst])).exitCode).toBe(0);
    const copy = path.join(dst, 'sub/kept.txt');
    const inode = fs.statSync(copy).ino;
    // As a copy made before foldercopy removed inherited ACLs left it: the directory's default ACL,
    // and the access ACL the file (mode 640) inherited from it.
    handDownAcls(path.join(dst, 'sub'));
    setAcl(copy, 'system.posix_acl_access', [
      [USER_OBJ, 6, ANY_ID],
      [USER, 7, 1000],
      [GROUP_OBJ, 5, ANY_ID],
      [MASK, 4, ANY_ID],
      [OTHER, 0, ANY_ID],
    ]);

    const result = await runCli([src, dst, '--json']);

    expect(result.exitCode, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { counts: { overwritten: number } }).counts.overwritten).toBe(0);
    expect(fs.statSync(copy).ino).toBe(inode);
    expect(xattrsOf(dst)).toEqual(xattrsOf(src));
    expect(fs.statSync(copy).mode & 0o7777).toBe(0o640);
  });

  it('where the calls are not available (FOLDERCOPY_TEST_NO_NATIVE=1, a test seam), the copy is made and the summary says once what was not kept', async () => {
    const { root, src } = await sourceTree();
    const dst = path.join(root, 'dst');

    const result = await runCli([src, dst, '--json'], { env: { FOLDERCOPY_TEST_NO_NATIVE: '1' } });

    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr.match(/not kept: not available on this platform/g)).toHaveLength(1);
    const summary = JSON.parse(result.stdout) as { metadataNotKept: Record<string, number>; counts: { failed: number } };
    expect(summary.metadataNotKept.unavailable).toBeGreaterThan(0);
    expect(summary.counts.failed).toBe(0);
    expect(diffTrees(await snapshotTree(src), await snapshotTree(dst), { mtimePrecision: 'us' })).toEqual([]);
  });

  it('as root, reading the source leaves its access times as they were, so both sides show the same', async () => {
    const root = await tempDir();
    const src = path.join(root, 'src');
    await writeTree(src, { 'a.txt': 'a\n', 'sub/b.bin': 'b'.repeat(300_000) });
    const ns = 1577836800123456789n;
    for (const name of ['a.txt', 'sub/b.bin']) fs.utimesSync(path.join(src, name), new Date(1577836800123), new Date(1577836800123));
    execFileSync('python3', ['-c', `import os, sys\nfor p in sys.argv[1:]: os.utime(p, ns=(${ns}, ${ns}))`, path.join(src, 'a.txt'), path.join(src, 'sub/b.bin')]);
    const dst = path.join(root, 'dst');

    const result = await runCli([src, dst]);

    expect(result.exitCode, result.stderr).toBe(0);
    for (const name of ['a.txt', 'sub/b.bin']) {
      const before = fs.statSync(path.join(src, name), { bigint: true });
      const after = fs.statSync(path.join(dst, name), { bigint: true });
      expect(before.atimeNs, name).toBe(ns);
      expect(after.atimeNs, name).toBe(ns);
    }
  });
});
