import { DirectoryHandles, entryLocation } from '../shared/directory-handles.js';
import type { Job } from '../shared/jobs.js';
import { writingPathFor } from '../shared/names-on-disk.js';
import type { RawPath } from '../shared/raw-path.js';
import { unlinkQuietly } from '../shared/unlink-quietly.js';

export interface DeadWorker {
  /** Where entries are written: the destination, or the staging directory of a first copy. */
  destination: RawPath;
  staged: boolean;
  pid: number;
  /** The jobs it had not confirmed. */
  jobs: Job[];
}

/** Removes what a dead worker may have half written. In a staged copy that is the entry's own name, still invisible. */
export function sweepDeadWorkerFiles({ destination, staged, pid, jobs }: DeadWorker): void {
  const directories = new Map<RawPath, DirectoryHandles>();
  for (const job of jobs) {
    const { root, relative } = entryLocation(destination, job.path);
    let handles = directories.get(root);
    if (!handles) directories.set(root, (handles = new DirectoryHandles(root)));
    try {
      unlinkQuietly(handles.entryPath(writingPathFor(relative, pid, staged)));
    } catch {
      // Its directory cannot be reached (gone, or replaced by a symlink): nothing of ours is there to sweep.
    }
  }
  for (const handles of directories.values()) handles.closeAll();
}
