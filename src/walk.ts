/**
 * Lists the source tree as a stream of typed entries, parents before children,
 * so copying starts long before the listing ends. fast-glob does the traversal
 * (dotfiles, directories and links included, links never followed) through a
 * file-system adapter of ours, which gives it:
 *  - raw names (see raw-path.ts), so any byte sequence Linux allows survives;
 *  - types from the listing itself (d_type): only directories are stat'ed here,
 *    since the parent makes them; a file is stat'ed by the worker that copies it;
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
import { entryFromDirent, entryFromStats, hasType, type Entry } from './entry.js';
import type { TreeFilter } from './filter.js';
import { errorRecord, type ErrorRecord } from './protocol.js';
import { fsPath, joinRaw, rawFromLatin1, type RawPath } from './raw-path.js';

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
  }) as Readable & AsyncIterable<{ path: RawPath; dirent: Dirent }>;

  try {
    for await (const found of stream) {
      if (failures.length > 0) yield* failures.splice(0);
      if (found.dirent.isDirectory()) {
        const stats = statEntry(joinRaw(root, found.path));
        yield 'kind' in stats ? stats : entryFromStats(found.path, stats);
      } else yield entryFromDirent(found.path, found.dirent);
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

/** latin1 gives raw names without a Buffer per name; an entry the listing gives no type is stat'ed. */
function readDirectory(path: RawPath): Dirent[] {
  const dirents = fs.readdirSync(fsPath(path), { encoding: 'latin1', withFileTypes: true });
  for (let i = 0; i < dirents.length; i++) {
    const dirent = dirents[i]!;
    dirent.name = rawFromLatin1(dirent.name);
    if (!hasType(dirent)) dirents[i] = Object.assign(fs.lstatSync(fsPath(joinRaw(path, dirent.name))), { name: dirent.name }) as unknown as Dirent;
  }
  return dirents;
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
