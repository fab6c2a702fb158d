/**
 * The cp habit `foldercopy photos backups/` puts the contents of photos into
 * backups/, beside what was there. When the destination already held entries and
 * none of them is in the source, one line says where the files went and how to
 * copy the folder itself. Computed before the copy (the destination as it was),
 * printed after it.
 */
import path from 'node:path';
import { contentsBesideOthers } from '../index.js';
import { displayText } from './format.js';

export function destinationNotice(source: string, destination: string | undefined, deleting: boolean): string | undefined {
  // With --delete the guard refuses this case, unless --max-delete said to go ahead.
  if (destination === undefined || deleting || !contentsBesideOthers(source, destination)) return undefined;
  return noticeLine(source, destination);
}

function noticeLine(source: string, destination: string): string {
  const shownDestination = destination.endsWith('/') ? destination : `${destination}/`;
  const itself = path.join(destination, path.basename(path.resolve(source)));
  return `foldercopy: note: the contents of ${displayText(source)} went into ${displayText(shownDestination)} beside what was there; to copy the folder itself, use ${displayText(itself)}`;
}
