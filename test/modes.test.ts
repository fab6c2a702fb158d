// A copy's modes are the source's, whatever the destination's directory hands down: set-id bits
// survive a first copy by a user without CAP_FSETID, and a default ACL on the destination does not
// mask the modes of files and directories created under it (cp -a and rsync -a set them explicitly).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRoot, runCli } from './helpers/run-cli.js';
import { useTempDirs, writeTree } from './helpers/tree.js';

const tempDir = useTempDirs();

function modes(root: string, names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, (fs.lstatSync(path.join(root, name)).mode & 0o7777).toString(8)]));
}

/** A default ACL (user::rwx, group::r-x, other::---), written as the system.posix_acl_default attribute. */
function setDefaultAcl(directory: string): void {
  const script = `
import os, struct, sys
entry = lambda tag, perm: struct.pack('<HHI', tag, perm, 0xFFFFFFFF)
os.setxattr(sys.argv[1], 'system.posix_acl_default', struct.pack('<I', 2) + entry(1, 7) + entry(4, 5) + entry(0x20, 0))`;
  execFileSync('python3', ['-c', script, directory]);
}

function canSetAcls(): boolean {
  try {
    execFileSync('python3', ['-c', 'import os; os.setxattr']);
    return true;
  } catch {
    return false;
  }
}

describe('modes at the destination are the source\'s', () => {
  it.skipIf(!isRoot())('set-user-ID and set-group-ID bits survive a first copy by a user who is not root (as nobody)', async () => {
    const root = await tempDir();
    fs.chmodSync(root, 0o755);
    const src = path.join(root, 'src');
    await writeTree(src, { 'tool': '#!/bin/sh\n', 'group-tool': '#!/bin/sh\n', 'sub/deep-tool': '#!/bin/sh\n' });
    // chown clears set-id bits: owners first, then modes.
    execFileSync('chown', ['-R', '65534:65534', src]);
    fs.chmodSync(path.join(src, 'tool'), 0o4755);
    fs.chmodSync(path.join(src, 'group-tool'), 0o2755);
    fs.chmodSync(path.join(src, 'sub/deep-tool'), 0o4711);
    const out = path.join(root, 'out');
    fs.mkdirSync(out);
    fs.chownSync(out, 65534, 65534);

    const result = await runCli([src, path.join(out, 'copy')], { asUser: 'nobody' });

    expect(result.exitCode, result.stderr).toBe(0);
    expect(modes(path.join(out, 'copy'), ['tool', 'group-tool', 'sub/deep-tool'])).toEqual({ tool: '4755', 'group-tool': '2755', 'sub/deep-tool': '4711' });
  });

  it.skipIf(!canSetAcls())('under a default ACL that restricts "other", files and directories keep 0644, 0755 and 0700', async () => {
    const root = await tempDir();
    const src = path.join(root, 'src');
    await writeTree(src, {
      'a.txt': { type: 'file', content: 'a\n', mode: 0o644 },
      'run.sh': { type: 'file', content: '#!/bin/sh\n', mode: 0o755 },
      'private.txt': { type: 'file', content: 'p\n', mode: 0o600 },
      'sub/b.txt': { type: 'file', content: 'b\n', mode: 0o644 },
      'sub': { type: 'dir', mode: 0o755 },
      'closed': { type: 'dir', mode: 0o700 },
    });
    const parent = path.join(root, 'acl');
    fs.mkdirSync(parent);
    setDefaultAcl(parent);
    const dst = path.join(parent, 'copy');

    for (const run of ['first copy', 're-run after a change']) {
      if (run !== 'first copy') fs.writeFileSync(path.join(src, 'sub/b.txt'), 'b, changed\n');
      const result = await runCli([src, dst]);
      expect(result.exitCode, `${run}: ${result.stderr}`).toBe(0);
      expect(modes(dst, ['.', 'a.txt', 'run.sh', 'private.txt', 'sub', 'sub/b.txt', 'closed']), run).toEqual({
        '.': (fs.statSync(src).mode & 0o7777).toString(8),
        'a.txt': '644',
        'run.sh': '755',
        'private.txt': '600',
        sub: '755',
        'sub/b.txt': '644',
        closed: '700',
      });
    }
  });
});
