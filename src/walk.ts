/**
 * Lists the source tree as a stream of typed entries, parents before children,
 * so copying starts long before the listing ends. fast-glob does the traversal
 * (dotfiles, directories and links included, links never followed) through a
 * file-system adapter of ours, which gives it:
 *  - raw names (see raw-path.ts), so any byte sequence Linux allows survives;
 *  - synchronous readdir, one directory per event-loop turn: an async call per
 *    directory is a thread-pool round trip, slow here, and the turn lets the
 *    parent drain worker messages while listing;
 *  - backpressure: fast-glob pushes every entry it finds into its stream, so the
 *    adapter stops reading directories while the consumer is behind;
 *  - errors as values: an unreadable directory is reported and skipped instead
 *    of ending the listing;
 *  - filtering (filter.ts) as each directory is read, so an excluded directory
 *    is never descended into.
 */
import type { BigIntStats, Dirent } from 'node:fs';
import type { Readable } from 'node:stream';
import fs from 'node:fs';
import nodePath from 'node:path';
import fg from 'fast-glob';
import { entryFromStats, type Entry } from './entry.js';
import type { TreeFilter } from './filter.js';
import { errorRecord, type ErrorRecord } from './protocol.js';
import { fsPath, joinRaw, rawFromBytes, type RawPath } from './raw-path.js';

export interface WalkFailure {
  kind: 'failure';
  error: ErrorRecord;
}

// Entries fast-glob may hold ahead of the consumer before directory reading pauses.
const BUFFERED_ENTRIES_HIGH = 4096;

type ReaddirCallback = (error: NodeJS.ErrnoException | null, entries?: Dirent[]) => void;

/** Lists `root` (a directory; a symlink to one is followed, as `cp -a root/ dest` would). */
export async function* walk(root: RawPath, filter: TreeFilter | null): AsyncGenerator<Entry | WalkFailure> {
  let rootStats: BigIntStats;
  try {
    rootStats = fs.statSync(fsPath(root), { bigint: true });
  } catch (error) {
    yield { kind: 'failure', error: errorRecord(error, 'stat', root) };
    return;
  }
  yield entryFromStats('', rootStats);

  const absoluteRoot = nodePath.resolve(root);
  const failures: WalkFailure[] = [];
  const requests: Array<{ path: RawPath; callback: ReaddirCallback }> = [];
  let scheduled = false;
  let paused = false;
  let finished = false;

  const readNextDirectory = (): void => {
    scheduled = false;
    if (finished) return;
    if (stream.readableLength >= BUFFERED_ENTRIES_HIGH) {
      paused = true;
      return;
    }
    const request = requests.shift();
    if (!request) return;
    let entries: Dirent[];
    try {
      entries = readDirectory(request.path);
      if (filter) entries = filter.admit(relativeTo(absoluteRoot, request.path), entries);
    } catch (error) {
      // fast-glob asks for absolute paths; report the one the user typed.
      const typed = request.path.startsWith(absoluteRoot) ? root + request.path.slice(absoluteRoot.length) : request.path;
      failures.push({ kind: 'failure', error: errorRecord(error, 'list', typed) });
      entries = [];
    }
    scheduleRead();
    request.callback(null, entries);
  };
  const scheduleRead = (): void => {
    if (scheduled || requests.length === 0) return;
    scheduled = true;
    setImmediate(readNextDirectory);
  };

  const stream = fg.stream('**', {
    cwd: root,
    dot: true,
    onlyFiles: false,
    followSymbolicLinks: false,
    unique: false,
    objectMode: true,
    fs: {
      readdir: ((path: string, optionsOrCallback: unknown, maybeCallback?: ReaddirCallback) => {
        const callback = (typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback) as ReaddirCallback;
        requests.push({ path, callback });
        scheduleRead();
      }) as unknown as typeof fs.readdir,
    },
  }) as Readable & AsyncIterable<{ path: RawPath }>;

  try {
    for await (const found of stream) {
      if (failures.length > 0) yield* failures.splice(0);
      const path = joinRaw(root, found.path);
      const stats = statEntry(path);
      if ('kind' in stats) yield stats;
      else yield entryFromStats(found.path, stats);
      if (paused && stream.readableLength < BUFFERED_ENTRIES_HIGH / 2) {
        paused = false;
        scheduleRead();
      }
    }
    yield* failures;
  } finally {
    // The consumer may stop early (Ctrl-C); directories still queued must not be read.
    finished = true;
    requests.length = 0;
  }
}

function readDirectory(path: RawPath): Dirent[] {
  const dirents = fs.readdirSync(fsPath(path), { encoding: 'buffer', withFileTypes: true });
  for (const dirent of dirents) {
    (dirent as unknown as { name: string }).name = rawFromBytes(dirent.name);
  }
  return dirents as unknown as Dirent[];
}

/** fast-glob asks for directories by absolute path; filters work on paths relative to the root. */
function relativeTo(absoluteRoot: string, directory: string): RawPath {
  if (directory === absoluteRoot) return '';
  return directory.slice(absoluteRoot.endsWith('/') ? absoluteRoot.length : absoluteRoot.length + 1);
}

function statEntry(path: RawPath): BigIntStats | WalkFailure {
  try {
    return fs.lstatSync(fsPath(path), { bigint: true });
  } catch (error) {
    return { kind: 'failure', error: errorRecord(error, 'stat', path) };
  }
}
