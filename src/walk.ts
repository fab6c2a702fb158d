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
 *    of ending the listing.
 */
import type { BigIntStats, Dirent } from 'node:fs';
import type { Readable } from 'node:stream';
import fs from 'node:fs';
import nodePath from 'node:path';
import fg from 'fast-glob';
import { errorRecord, type ErrorRecord, type Seconds } from './protocol.js';
import { fsPath, joinRaw, rawFromBytes, type RawPath } from './raw-path.js';

export type EntryKind = 'dir' | 'file' | 'symlink' | 'special';

export interface Entry {
  /** Relative to the source root; '' is the root itself. */
  path: RawPath;
  kind: EntryKind;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  atime: Seconds;
  mtime: Seconds;
  /** Fewer blocks than the size needs: the file has holes. */
  sparse: boolean;
  /** Set for files with more than one name, so the copy can share one inode too. */
  inode?: string;
  /** For special files: what kind, for the warning. */
  specialType?: string;
}

export interface WalkFailure {
  kind: 'failure';
  error: ErrorRecord;
}

// Entries fast-glob may hold ahead of the consumer before directory reading pauses.
const BUFFERED_ENTRIES_HIGH = 4096;

type ReaddirCallback = (error: NodeJS.ErrnoException | null, entries?: Dirent[]) => void;

/** Lists `root` (a directory; a symlink to one is followed, as `cp -a root/ dest` would). */
export async function* walk(root: RawPath): AsyncGenerator<Entry | WalkFailure> {
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

function statEntry(path: RawPath): BigIntStats | WalkFailure {
  try {
    return fs.lstatSync(fsPath(path), { bigint: true });
  } catch (error) {
    return { kind: 'failure', error: errorRecord(error, 'stat', path) };
  }
}

export function entryFromStats(path: RawPath, stats: BigIntStats): Entry {
  const kind = stats.isDirectory() ? 'dir' : stats.isFile() ? 'file' : stats.isSymbolicLink() ? 'symlink' : 'special';
  const size = Number(stats.size);
  const entry: Entry = {
    path,
    kind,
    size,
    mode: Number(stats.mode & 0o7777n),
    uid: Number(stats.uid),
    gid: Number(stats.gid),
    atime: toSeconds(stats.atimeNs),
    mtime: toSeconds(stats.mtimeNs),
    sparse: kind === 'file' && Number(stats.blocks) * 512 < size,
  };
  if (kind === 'file' && stats.nlink > 1n) entry.inode = `${stats.dev}:${stats.ino}`;
  if (kind === 'special') entry.specialType = specialType(stats);
  return entry;
}

function specialType(stats: BigIntStats): string {
  if (stats.isFIFO()) return 'FIFO';
  if (stats.isSocket()) return 'socket';
  if (stats.isCharacterDevice()) return 'character device';
  if (stats.isBlockDevice()) return 'block device';
  return 'special file';
}

const NS_PER_SECOND = 1_000_000_000n;

/**
 * utimes takes seconds as a double, and libuv truncates it to the microsecond.
 * A double of today's seconds is exact to about 240 ns, so aiming at the middle
 * of the source's microsecond lands in it: never one below, never in the next second.
 */
function toSeconds(ns: bigint): Seconds {
  let whole = ns / NS_PER_SECOND;
  let fraction = ns % NS_PER_SECOND;
  if (fraction < 0n) {
    whole -= 1n;
    fraction += NS_PER_SECOND;
  }
  const micros = Number(fraction / 1000n);
  return Number(whole) + (micros + 0.5) / 1e6;
}
