// The directory descriptors a tree's handles keep open (src/shared/directory-handles.ts) must not outlive an
// exec: the parent forks workers while the census's handles (tree-stats.ts) are open, and a worker that
// inherits them holds the source's directories open, and its mount busy, for as long as it lives.
// Node's own opens are close-on-exec; those made through koffi's openat (tree-stats.ts, worker/trees.ts)
// get only the flags they are given. And a descriptor a call on another thread resolves a path through
// (withEntryPath()) stays open, naming its directory, however many others are opened meanwhile.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DirectoryHandles } from '../../src/shared/directory-handles.js';
import { treeStats } from '../../src/source/tree-stats.js';
import { Directories } from '../../src/worker/trees.js';

const O_CLOEXEC = 0o2000000;
let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'directory-handles-'));
  fs.mkdirSync(path.join(root, 'sub', 'deeper'), { recursive: true });
  fs.writeFileSync(path.join(root, 'sub', 'deeper', 'file'), 'x');
});

afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** The flags of each descriptor of this process that names `directory`. */
function flagsOfDescriptorsOn(directory: string): number[] {
  const flags: number[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // the listing's own descriptor, closed since
    }
    if (target !== directory) continue;
    const line = /^flags:\s+([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    flags.push(Number.parseInt(line![1]!, 8));
  }
  return flags;
}

it.runIf(process.platform === 'linux')('opens the census and plan stats directories close-on-exec', () => {
  const stats = treeStats(root);
  try {
    expect(stats.entry('sub/deeper', 'sub/deeper/file')?.size).toBe(1);
    const opened = [...flagsOfDescriptorsOn(path.join(root, 'sub')), ...flagsOfDescriptorsOn(path.join(root, 'sub', 'deeper'))];
    expect(opened).toHaveLength(2);
    for (const flags of opened) expect(flags & O_CLOEXEC).toBe(O_CLOEXEC);
  } finally {
    stats.close();
  }
});

it.runIf(process.platform === 'linux')("opens a batch's directories close-on-exec (the parent runs batches itself)", () => {
  const directories = new Directories(root, { lookUpOnly: true });
  try {
    directories.dir('sub/deeper');
    const opened = [...flagsOfDescriptorsOn(path.join(root, 'sub')), ...flagsOfDescriptorsOn(path.join(root, 'sub', 'deeper'))];
    expect(opened).toHaveLength(2);
    for (const flags of opened) expect(flags & O_CLOEXEC).toBe(O_CLOEXEC);
  } finally {
    directories.close();
  }
});

it.runIf(process.platform === 'linux')('keeps the directory of a call in flight open, naming the same directory, while more than it keeps open are opened', async () => {
  for (let i = 0; i < 100; i++) fs.mkdirSync(path.join(root, `d${i}`));
  const handles = new DirectoryHandles(root);
  try {
    // The call's path is used only after 100 others were opened, beyond the 64 kept: the least recently used went.
    const read = await handles.withEntryPath('sub/deeper/file', async (at) => {
      for (let i = 0; i < 100; i++) handles.descriptor(`d${i}`);
      return fs.promises.readFile(at, 'utf8');
    });
    expect(read).toBe('x');
    // Settled, it may go like any other.
    for (let i = 0; i < 100; i++) handles.descriptor(`d${i}`);
    expect(flagsOfDescriptorsOn(path.join(root, 'sub', 'deeper'))).toEqual([]);
  } finally {
    handles.closeAll();
  }
});
