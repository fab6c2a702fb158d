/**
 * Lists the source tree as a stream of listings, one per directory, parents
 * before children, so copying starts long before the listing ends. fast-glob
 * drives the traversal (which directory next, links never followed) through a
 * file-system adapter of ours, which reads each directory for it and:
 *  - hands fast-glob only the subdirectories; the rest (files, symlinks, special
 *    files) becomes that directory's listing, so the parent's work per entry (a
 *    stream event, a pattern test, a promise) is paid per directory instead;
 *  - gives raw names (see raw-path.ts), so any byte sequence Linux allows survives;
 *  - takes types from the listing itself (d_type): only directories are stat'ed,
 *    as they are read, since the parent makes them; a file is stat'ed by the
 *    worker that copies it;
 *  - reads synchronously, one directory per event-loop turn: an async call per
 *    directory is a thread-pool round trip, slow here, and the turn lets the
 *    parent drain worker messages while listing;
 *  - holds listings in a stream of ours and stops reading while it is full
 *    (fast-glob itself ignores backpressure);
 *  - reports errors as values: an unreadable directory is reported and skipped
 *    instead of ending the listing;
 *  - filters (filter.ts) as each directory is read, so an excluded directory is
 *    never descended into.
 */
import type { Dirent } from 'node:fs';
import fs from 'node:fs';
import nodePath from 'node:path';
import { Readable } from 'node:stream';
import fg from 'fast-glob';
import { directoryEntry, entryFromDirent, hasType, type DirectoryEntry, type LinkOrFileEntry, type SpecialEntry } from './entry.js';
import type { TreeFilter } from './filter.js';
import { errorRecord, type ErrorRecord } from './protocol.js';
import { childPath, fsPath, joinRaw, rawFromLatin1, type RawPath } from './raw-path.js';

/** One directory as read: the directory itself, and what it holds besides subdirectories (each its own listing). */
export interface Listing {
  kind: 'listing';
  directory: DirectoryEntry;
  entries: Array<LinkOrFileEntry | SpecialEntry>;
}

export interface WalkFailure {
  kind: 'failure';
  error: ErrorRecord;
}

export type WalkItem = Listing | WalkFailure;

// Listings read ahead of the consumer before reading pauses: about 4,000 entries at ~60 per directory.
const BUFFERED_LISTINGS = 64;

type ReaddirCallback = (error: NodeJS.ErrnoException | null, entries?: Dirent[]) => void;

/** Lists `root` (a directory; a symlink to one is followed, as `cp -a root/ dest` would). */
export function walk(root: RawPath, filter: TreeFilter | null): AsyncIterable<WalkItem> {
  const requests: Array<{ path: string; callback: ReaddirCallback }> = [];
  let scheduled = false;
  let paused = false;

  const readNextDirectory = (): void => {
    scheduled = false;
    // The consumer stopped early (Ctrl-C): directories still queued must not be read.
    if (listings.destroyed || paused) return;
    const request = requests.shift();
    if (!request) return;
    const { items, subdirectories } = readListing(root, relativeTo(absoluteRoot, request.path), rootEntry, filter);
    for (const item of items) if (!listings.push(item)) paused = true;
    scheduleRead();
    request.callback(null, subdirectories);
  };
  const scheduleRead = (): void => {
    if (scheduled || paused || requests.length === 0) return;
    scheduled = true;
    setImmediate(readNextDirectory);
  };

  const listings = new Readable({
    objectMode: true,
    highWaterMark: BUFFERED_LISTINGS,
    read: () => {
      paused = false;
      scheduleRead();
    },
  });

  let rootEntry: DirectoryEntry;
  try {
    rootEntry = directoryEntry('', fs.statSync(fsPath(root), { bigint: true }));
  } catch (error) {
    listings.push(failure(errorRecord(error, 'stat', root)));
    listings.push(null);
    return listings;
  }
  const absoluteRoot = nodePath.resolve(root);

  // fast-glob only ever sees directories, each of which came with its listing, so it needs
  // to emit nothing (onlyFiles): the walk ends when its traversal does.
  const traversal = fg.stream('**', {
    cwd: root,
    dot: true,
    onlyFiles: true,
    followSymbolicLinks: false,
    unique: false,
    fs: {
      readdir: ((path: string, optionsOrCallback: unknown, maybeCallback?: ReaddirCallback) => {
        const callback = (typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback) as ReaddirCallback;
        requests.push({ path, callback });
        scheduleRead();
      }) as unknown as typeof fs.readdir,
    },
  });
  traversal.resume();
  traversal.on('end', () => listings.push(null));
  traversal.on('error', (error) => listings.destroy(error));
  return listings;
}

/** One directory: its listing (or why there is none), and the subdirectories fast-glob goes on with. */
function readListing(
  root: RawPath,
  relative: RawPath,
  rootEntry: DirectoryEntry,
  filter: TreeFilter | null,
): { items: WalkItem[]; subdirectories: Dirent[] } {
  const path = joinRaw(root, relative);
  let directory = rootEntry;
  if (relative !== '') {
    try {
      const stats = fs.lstatSync(fsPath(path), { bigint: true });
      // Replaced since its parent was read: reading it now could follow a symlink out of the tree.
      if (!stats.isDirectory()) {
        return { items: [failure({ code: 'ECHANGED', message: 'it is no longer a directory', operation: 'list', path })], subdirectories: [] };
      }
      directory = directoryEntry(relative, stats);
    } catch (error) {
      return { items: [failure(errorRecord(error, 'stat', path))], subdirectories: [] };
    }
  }
  let dirents: Dirent[];
  try {
    dirents = readDirectory(path);
    if (filter) dirents = filter.admit(relative, dirents);
  } catch (error) {
    // The directory is still made, empty.
    return { items: [{ kind: 'listing', directory, entries: [] }, failure(errorRecord(error, 'list', path))], subdirectories: [] };
  }
  const entries: Array<LinkOrFileEntry | SpecialEntry> = [];
  const subdirectories: Dirent[] = [];
  for (const dirent of dirents) {
    if (dirent.isDirectory()) subdirectories.push(dirent);
    else entries.push(entryFromDirent(childPath(relative, dirent.name), dirent));
  }
  return { items: [{ kind: 'listing', directory, entries }], subdirectories };
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

/** fast-glob asks for directories by absolute path; listings and filters use paths relative to the root. */
function relativeTo(absoluteRoot: string, directory: string): RawPath {
  if (directory === absoluteRoot) return '';
  return directory.slice(absoluteRoot.endsWith('/') ? absoluteRoot.length : absoluteRoot.length + 1);
}

function failure(error: ErrorRecord): WalkFailure {
  return { kind: 'failure', error };
}
