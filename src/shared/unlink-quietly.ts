import fs from 'node:fs';
import type { FsPath } from './raw-path.js';

/** Removes a file of ours if it is there: cleanup that must never hide the failure it follows. */
export function unlinkQuietly(path: FsPath): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // Nothing to remove, or the original failure is the one worth reporting.
  }
}
