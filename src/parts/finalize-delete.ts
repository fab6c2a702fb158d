/**
 * The finalize step's --delete: what the destination holds and the plan does not
 * list goes, as a copy's delete pass removes what the source lacks (delete/*),
 * except that the names come from the plan, never from the source, which may have
 * changed since or be out of this host's reach. Every planned directory is
 * compared; names the plan's filters leave out, foldercopy's own (temporary
 * names, locks) and backups (the backup directory, names with the suffix) stay.
 * With the plan's --backup each file or symlink is kept aside first, as a
 * copy's delete pass keeps it. The guard and maxDelete are the copy's (refusals.ts).
 */
import type { DirectoryHandles } from '../shared/directory-handles.js';
import type { ErrorRecord } from '../shared/errors.js';
import { deleteEntry, findExtraneous, type Tree } from '../delete/extraneous.js';
import { deletionLimit } from '../delete/refusals.js';
import { namesByDirectory, planFilter, type PlanListing, type PlanSettings } from './plan-listing.js';

export interface PlannedDeletion {
  deleted: number;
  /** Of them, kept aside first (--backup). */
  backedUp: number;
  /** Why nothing was deleted, when nothing was. */
  skipped: string | undefined;
  failures: ErrorRecord[];
}

export interface UnplannedOptions {
  listing: PlanListing;
  settings: PlanSettings;
  /** The destination's directories, reached without following symlinks. */
  handles: DirectoryHandles;
}

const NO_NAMES: ReadonlySet<string> = new Set();

export function deleteUnplanned({ listing, settings, handles }: UnplannedOptions): PlannedDeletion {
  const names = namesByDirectory(listing);
  const tree: Tree = { destination: listing.destination, handles, filter: planFilter(listing, settings, names), backup: settings.backup, keptFromDelete: settings.keptFromDelete };
  const directories = listing.directories.map((directory) => directory.path);
  const { deletions, failures, seen } = findExtraneous((directory) => names.get(directory) ?? NO_NAMES, tree, directories, []);
  if (failures.length > 0) return { deleted: 0, backedUp: 0, skipped: 'the destination could not be fully listed', failures };
  const skipped = deletionLimit(deletions.length, seen, settings.maxDelete);
  if (skipped !== undefined) return { deleted: 0, backedUp: 0, skipped, failures };
  let deleted = 0;
  let backedUp = 0;
  for (const deletion of deletions) {
    const done = deleteEntry(tree, deletion);
    if ('error' in done) failures.push(done.error);
    else {
      deleted++;
      if (done.keptAside) backedUp++;
    }
  }
  return { deleted, backedUp, skipped: undefined, failures };
}
