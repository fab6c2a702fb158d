/**
 * --itemize-changes: each entry's change in rsync's eleven characters
 * `YXcstpoguax` (rsync(1), --itemize-changes), made in the parent from the
 * job's outcome and the nine attribute letters its worker found
 * (worker/itemize.ts), or from a directory's stats (destination/directories.ts). Y: '>' a file written, 'c' a directory or symlink made,
 * 'h' a hard link, '.' kept, '*' a message (`*deleting`); X: the type.
 */
import type { Metadata } from './metadata.js';
import type { Job, OwnerPolicy } from './jobs.js';
import type { JobResult } from './protocol.js';

const ALL_NEW = '+++++++++';
const SAME = '.........';
/** What rsync prints in the attribute columns of an entry nothing happened to (shown with -ii). */
const NOTHING = '         ';
export const DELETING = '*deleting  ';
export const CREATED_DIRECTORY = `cd${ALL_NEW}`;

const TYPE_LETTERS: Record<Job['kind'], string> = { file: 'f', symlink: 'L', hardlink: 'f' };

/** A finished job's eleven characters (never a failed one's). */
export function jobItem(job: Job, { outcome, changes }: JobResult): string {
  const type = TYPE_LETTERS[job.kind];
  if (job.kind === 'hardlink') return `h${type}${outcome === 'skipped' ? unchanged(changes) : (changes ?? ALL_NEW)}`;
  switch (outcome) {
    case 'created':
      return `${job.kind === 'file' ? '>' : 'c'}${type}${ALL_NEW}`;
    // Shared with a link-dest tree, as rsync's --link-dest: no change to report.
    case 'linked':
      return `h${type}${NOTHING}`;
    case 'overwritten':
      return `${job.kind === 'file' ? '>' : 'c'}${type}${changes ?? SAME}`;
    default:
      return `.${type}${unchanged(changes)}`;
  }
}

/** A directory made (found undefined), or found with its owner, mode or time to be set (extended attributes are not compared for directories). */
export function directoryItem(entry: Metadata, found: DirectoryFound | undefined, owners: OwnerPolicy): string {
  if (found === undefined) return CREATED_DIRECTORY;
  const changes =
    '..' +
    (found.mtimeNs === entry.mtimeNs ? '.' : 't') +
    ((Number(found.mode) & 0o7777) === entry.mode ? '.' : 'p') +
    (owners.preserve && Number(found.uid) !== entry.uid ? 'o' : '.') +
    (owners.preserve && Number(found.gid) !== entry.gid ? 'g' : '.') +
    '...';
  return `.d${unchanged(changes)}`;
}

/** What a directory's stats are compared by. */
export interface DirectoryFound {
  mode: number | bigint;
  uid: number | bigint;
  gid: number | bigint;
  mtimeNs: bigint;
}

function unchanged(changes: string | undefined): string {
  return changes === undefined || changes === SAME ? NOTHING : changes;
}
