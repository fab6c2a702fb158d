/**
 * The finalize's looks at the destination, one per planned directory (whether
 * it is there, then its listing for temporaries killed parts left), made many at
 * once ahead of the loop that uses them: on a network file system each is a round
 * trip, and one at a time they took most of a finalize there. Through the same
 * directory descriptors as the loop, so no symlink planted in the tree is followed.
 * Only what succeeds is kept: where a look fails, the loop's own call, one at a
 * time as before, meets the error and reports it.
 */
import fs, { type BigIntStats } from 'node:fs';
import pLimit from 'p-limit';
import type { DirectoryHandles } from '../shared/directory-handles.js';
import { NETWORK_REQUESTS_AT_ONCE } from '../shared/file-systems.js';
import type { RawPath } from '../shared/raw-path.js';

/**
 * What the finalize looks at through `handles`, looked at ahead. Each call's path goes through a
 * descriptor that stays open until the call returns (DirectoryHandles.withEntryPath()).
 */
export interface LookAhead {
  /** Each directory's stats (the root followed, as the loop's statSync does). */
  stats(paths: readonly RawPath[]): Promise<Map<RawPath, BigIntStats>>;
  /** Each directory's names, latin1. */
  names(paths: readonly RawPath[]): Promise<Map<RawPath, string[]>>;
}

export function lookAhead(handles: DirectoryHandles): LookAhead {
  return {
    stats: (paths) => each(paths, (path) => handles.withEntryPath(path, (at) => (path === '' ? fs.promises.stat : fs.promises.lstat)(at, { bigint: true }))),
    names: (paths) => each(paths, (path) => handles.withEntryPath(path, (at) => fs.promises.readdir(at, 'latin1'))),
  };
}

async function each<T>(paths: readonly RawPath[], look: (path: RawPath) => Promise<T>): Promise<Map<RawPath, T>> {
  const found = new Map<RawPath, T>();
  const limit = pLimit(NETWORK_REQUESTS_AT_ONCE);
  await Promise.all(
    paths.map((path) =>
      limit(async () => {
        try {
          found.set(path, await look(path));
        } catch {
          // Left to the loop's own call, which reports it.
        }
      }),
    ),
  );
  return found;
}
