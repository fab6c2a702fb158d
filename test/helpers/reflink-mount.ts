/**
 * A small XFS file system on a loop image, for the tests of what only a file
 * system that clones (reflinks) does. Needs root and mkfs.xfs (Debian's
 * xfsprogs): where either is missing, `reflinkMount()` says why, and the test
 * that needs it is skipped with that reason.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ReflinkMount {
  dir: string;
  unmount(): void;
}

/** Why no XFS can be mounted here, or undefined when one can. */
export function reflinkUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a loop image needs root';
  for (const tool of ['mkfs.xfs', 'mount', 'umount']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed (Debian: xfsprogs)`;
    }
  }
  return undefined;
}

/** Makes and mounts a 320 MiB sparse XFS image with reflinks; unmount() removes it all. */
export function reflinkMount(): ReflinkMount {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'foldercopy-xfs-'));
  const image = path.join(root, 'xfs.img');
  const dir = path.join(root, 'mnt');
  fs.mkdirSync(dir);
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 320 * 1024 * 1024);
  execFileSync('mkfs.xfs', ['-f', '-q', '-m', 'reflink=1', image], { stdio: 'ignore' });
  execFileSync('mount', ['-o', 'loop', image, dir], { stdio: 'ignore' });
  return {
    dir,
    unmount() {
      execFileSync('umount', [dir], { stdio: 'ignore' });
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Whether `file` shares its blocks with another (filefrag's "shared" flag). */
export function sharesBlocks(file: string): boolean {
  return /\bshared\b/.test(execFileSync('filefrag', ['-v', file], { encoding: 'utf8' }));
}
