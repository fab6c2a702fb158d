/**
 * A kept file's previous hash record (shared/hash-state.ts), checked against
 * the stats the worker took of both sides anyway: which sides it still vouches
 * for, so --checksum, --verify and the manifest read only what changed. Only a
 * job that carries a record comes here (a run with a manifest that had one).
 */
import { statKey, trustsStats, type FileState, type RecordedHash } from '../shared/hash-state.js';
import type { SourceFile } from '../shared/metadata.js';
import type { EntryStats } from '../shared/native.js';
import { pathOf, statQuietly, type Place } from './places.js';

/** What a record still says of a kept file now. */
export interface Vouched {
  hash: string;
  /** The source still holds `hash`. */
  source: boolean;
  /** The copy still holds `hash`. */
  destination: boolean;
  /** ...and was read back from the disk when it did: --verify need not read it again. */
  readBack: boolean;
}

export function vouched(recorded: RecordedHash, file: SourceFile, existing: EntryStats, { from, to }: { from: Place; to: Place }): Vouched | null {
  const source = recorded.source === statKey(file) && trustsStats(file.dev, () => pathOf(from));
  const destination = recorded.destination === statKey(existing) && trustsStats(existing.dev, () => pathOf(to));
  if (!source && !destination) return null;
  return { hash: recorded.hash, source, destination, readBack: destination && recorded.readBack === true };
}

/**
 * The next run's record of a kept file: the source as it was stat'ed before it was read, and the copy
 * when its content is known to be the source's: as it was stat'ed before its content was read or
 * compared (`copyBefore`), and only if it still is (a copy changed meanwhile, or whose metadata was
 * refreshed since, is left for the next run to read).
 */
export function keptState(file: SourceFile, to: Place, copyBefore: EntryStats | null, readBack: boolean): FileState {
  const before = copyBefore && statKey(copyBefore);
  const now = before ? statQuietly(to) : null;
  const unchanged = now !== null && statKey(now) === before;
  return { source: statKey(file), ...(unchanged && { destination: before, ...(readBack && { readBack: true as const }) }) };
}
