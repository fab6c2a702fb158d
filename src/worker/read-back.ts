/**
 * --verify's reading: a copy's content as the medium holds it, not as the page
 * cache remembers writing it. A copy is flushed (fdatasync; a written one also
 * before it is closed, write-file.ts, where a write error is reported) before it
 * is read back; its cached pages, a written copy's and a kept one's, are dropped
 * (posix_fadvise DONTNEED) before the read and again after it, so the read comes
 * from the disk and a backup run leaves no backup's pages in memory. Where they
 * cannot be dropped (no native calls, a file system that refuses the advice), the
 * read goes through the cache, and the result says so (ReadFrom). On tmpfs the
 * cache is the medium: the advice succeeds and leaves the pages where they are.
 *
 * Only --verify comes here: a run without it pays nothing.
 */
import fs from 'node:fs';
import { native } from '../shared/native.js';
import type { ReadFrom } from '../shared/protocol.js';
import { closeFd, openAt, type Place } from './places.js';
import { hashOpen, openCopyToRead, SOURCE_READ_FLAGS, SourceFailure } from './job-result.js';

export interface ReadBack {
  /** SHA-256 in hex of the copy as read. */
  digest: string;
  from: ReadFrom;
}

/** The copy at `place`, read from the disk where its cached pages can be dropped. */
export function readBack(place: Place, buffer: Buffer): ReadBack {
  const fd = openCopyToRead(place);
  try {
    // Dirty pages are not dropped: a kept copy written by a run a moment ago may still have some.
    fs.fdatasyncSync(fd);
    const from = dropCache(fd);
    const digest = hashOpen(fd, buffer);
    // Read, its pages are cached again: a backup need not push the user's files out of memory.
    if (from === 'disk') dropCache(fd);
    return { digest, from };
  } finally {
    closeFd(fd);
  }
}

/** SHA-256 in hex of the source at `place` (its failures are the source's: SourceFailure). */
export function hashSource(place: Place, buffer: Buffer): string {
  let fd: number;
  try {
    fd = openAt(place, SOURCE_READ_FLAGS);
  } catch (error) {
    throw new SourceFailure(error);
  }
  try {
    return hashOpen(fd, buffer);
  } catch (error) {
    throw new SourceFailure(error);
  } finally {
    closeFd(fd);
  }
}

function dropCache(fd: number): ReadFrom {
  const lib = native();
  return lib !== null && lib.dropCache(fd) === 0 ? 'disk' : 'cache';
}
