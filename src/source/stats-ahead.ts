/**
 * The stats of many entries of a tree, looked up before they are needed, many at
 * once: for a tree on a network file system (shared/file-systems.ts), where each
 * lookup is a round trip and one at a time (tree-stats.ts) waits for every one.
 * Up to NETWORK_REQUESTS_AT_ONCE in flight through Node's thread pool, a window of paths at a
 * time so that the requests queued stay few. By path from the root (the root
 * followed), for a look that writes nothing: the check of a planned copy.
 */
import fs from 'node:fs';
import pLimit from 'p-limit';
import { errorRecord, type ErrorRecord } from '../shared/errors.js';
import { NETWORK_REQUESTS_AT_ONCE } from '../shared/file-systems.js';
import { fsPath, joinRaw, type RawPath } from '../shared/raw-path.js';
import { fromNodeStats, treeStats, type StatsAt, type TreeEntryStats } from './tree-stats.js';

const WINDOW = 4096;

export async function statsAhead(root: RawPath, paths: readonly RawPath[]): Promise<StatsAt> {
  const found = new Map<RawPath, TreeEntryStats | ErrorRecord>();
  const limit = pLimit(NETWORK_REQUESTS_AT_ONCE);
  const look = async (relative: RawPath): Promise<void> => {
    const at = joinRaw(root, relative);
    try {
      const s = await (relative === '' ? fs.promises.stat : fs.promises.lstat)(fsPath(at), { bigint: true });
      found.set(relative, fromNodeStats(s));
    } catch (error) {
      found.set(relative, errorRecord(error, 'stat', at));
    }
  };
  for (let start = 0; start < paths.length; start += WINDOW) {
    await Promise.all(paths.slice(start, start + WINDOW).map((relative) => limit(() => look(relative))));
  }
  // A path not looked up ahead is looked up when asked.
  let late: StatsAt | undefined;
  return {
    at(relative, failures) {
      const stats = found.get(relative);
      if (stats === undefined) return (late ??= treeStats(root)).at(relative, failures);
      if (!('code' in stats)) return stats;
      failures.push(stats);
      return undefined;
    },
    close() {
      found.clear();
      late?.close();
    },
  };
}
