/**
 * One listed item of the source tree. What it is comes from the directory
 * listing itself (d_type), so a file costs the parent no stat: the worker that
 * copies it reads its metadata. Only directories, which the parent makes, carry
 * their metadata here.
 */
import type { BigIntStats, Dirent } from 'node:fs';
import { metadataFromStats, type Metadata } from '../shared/metadata.js';
import type { FsPath, RawPath } from '../shared/raw-path.js';

export interface DirectoryEntry extends Metadata {
  /** Relative to the source root; '' is the root itself. */
  path: RawPath;
  /** The source directory for fs calls, where its extended attributes are read at the end. */
  source?: FsPath;
}

export interface LinkOrFileEntry {
  kind: 'file' | 'symlink';
  path: RawPath;
}

/** A FIFO, socket or device: never opened, never copied. */
export interface SpecialEntry {
  kind: 'special';
  path: RawPath;
  /** What kind, for the warning. */
  specialType: string;
}

/** Dirents and stats answer the same questions about an entry's type. */
type Typed = Pick<Dirent, 'isFile' | 'isDirectory' | 'isSymbolicLink' | 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice'>;

/** A file, symlink or special file, typed by the listing; directories need their stats (directoryEntry). */
export function entryFromDirent(path: RawPath, dirent: Typed): LinkOrFileEntry | SpecialEntry {
  if (dirent.isFile()) return { kind: 'file', path };
  if (dirent.isSymbolicLink()) return { kind: 'symlink', path };
  return { kind: 'special', path, specialType: specialType(dirent) };
}

export function directoryEntry(path: RawPath, stats: BigIntStats, source?: FsPath): DirectoryEntry {
  return { path, ...metadataFromStats(stats), source };
}

/** A listing may not know an entry's type (DT_UNKNOWN on some file systems): then it must be stat'ed. */
export function hasType(dirent: Typed): boolean {
  return (
    dirent.isFile() ||
    dirent.isDirectory() ||
    dirent.isSymbolicLink() ||
    dirent.isFIFO() ||
    dirent.isSocket() ||
    dirent.isCharacterDevice() ||
    dirent.isBlockDevice()
  );
}

function specialType(entry: Typed): string {
  if (entry.isFIFO()) return 'FIFO';
  if (entry.isSocket()) return 'socket';
  if (entry.isCharacterDevice()) return 'character device';
  if (entry.isBlockDevice()) return 'block device';
  return 'special file';
}
