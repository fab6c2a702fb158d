/**
 * --backup in a worker: the entry a file or symlink is about to replace, kept
 * aside just before the new one is renamed over it (shared/keep-aside.ts).
 */
import { asideIn, keepAside, type Aside, type BackupSettings } from '../shared/keep-aside.js';
import { rawFromBytes } from '../shared/raw-path.js';
import type { JobPaths } from './job-result.js';
import { pathOf, sibling } from './places.js';

/** Whether something was kept aside (nothing is for a directory in the way, or a name gone since). */
export function keepReplaced(paths: JobPaths, backup: BackupSettings): boolean {
  return keepAside(pathOf(paths.to), asideOf(paths, backup));
}

function asideOf({ to, relative }: JobPaths, { dir, suffix }: BackupSettings): Aside {
  const name = typeof to.name === 'string' ? to.name : rawFromBytes(to.name);
  // A single file's job is named '': it is kept under the destination's own name.
  if (dir !== null) return asideIn(dir, relative === '' ? name : relative, suffix);
  return { path: pathOf(sibling(to, name + suffix)), parent: null };
}
