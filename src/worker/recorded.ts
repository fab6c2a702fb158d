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
 * The next run's record of a kept file: the source as it was hashed, and the copy as it stands now
 * (after its metadata was refreshed) when its content is known to be the same.
 */
export function keptState(file: SourceFile, to: Place, copyKnown: boolean, readBack: boolean): FileState {
  const copy = copyKnown ? statQuietly(to) : null;
  return { source: statKey(file), ...(copy && { destination: statKey(copy), ...(readBack && { readBack: true as const }) }) };
}
