/**
 * How the destination compares names, probed once per run where the copy goes.
 * On a case-insensitive file system (APFS and NTFS by default, casefolded ext4
 * directories), or one that ignores Unicode normalization (APFS), two source
 * names such as README and readme would land on one entry, the second copy
 * silently replacing the first. The guard leaves the second of each such pair
 * out of its listing and reports it (ECASECOLLISION, naming the first), so the
 * first is copied whole. On a destination that tells all names apart, which the
 * probe finds here, there is no guard and nothing is spent per name.
 */
import type { Dirent } from 'node:fs';
import fs from 'node:fs';
import path from 'node:path';
import type { ErrorRecord } from '../shared/errors.js';
import { childPath, joinRaw, pathText, type RawPath } from '../shared/raw-path.js';
import { probeNameFor } from '../shared/names-on-disk.js';
import type { ListingFilter } from '../source/walk.js';

export interface NameRules {
  caseInsensitive: boolean;
  normalizationInsensitive: boolean;
}

/**
 * Creates a file in `directory` and looks for it under a name that differs only
 * in case, then only in normalization. FOLDERCOPY_TEST_CASE_INSENSITIVE=1, a
 * test seam, makes it answer "insensitive to both" (no kernel here can mount a
 * case-insensitive file system).
 */
export function probeNameRules(directory: string): NameRules {
  if (process.env.FOLDERCOPY_TEST_CASE_INSENSITIVE === '1') return { caseInsensitive: true, normalizationInsensitive: true };
  const made = path.join(directory, probeNameFor(process.pid, 'probe'));
  let probe: fs.Stats;
  try {
    // O_EXCL: never a file or link someone else put at the name.
    const fd = fs.openSync(made, 'wx', 0o600);
    probe = fs.fstatSync(fd);
    fs.closeSync(fd);
  } catch {
    // Nothing can be made there (or the name is taken): the copy will say why; names are taken as told apart.
    return { caseInsensitive: false, normalizationInsensitive: false };
  }
  // The probe itself under the other name: an entry planted at that name is not.
  const findsProbe = (variant: string): boolean => {
    const found = fs.lstatSync(path.join(directory, variant), { throwIfNoEntry: false });
    return found !== undefined && found.ino === probe.ino && found.dev === probe.dev;
  };
  try {
    return {
      caseInsensitive: findsProbe(probeNameFor(process.pid, 'otherCase')),
      normalizationInsensitive: findsProbe(probeNameFor(process.pid, 'otherNormalization')),
    };
  } finally {
    fs.rmSync(made, { force: true });
  }
}

/** Leaves out of each listing the names the destination would take for an earlier one. */
export class CollisionGuard {
  constructor(
    private readonly rules: NameRules,
    private readonly source: RawPath,
    private readonly onCollision: (error: ErrorRecord, relativePath: RawPath, isDirectory: boolean) => void,
  ) {}

  /** The user's filter, then the guard; the filter alone where the destination tells every name apart: no guard, no cost. */
  static around(filter: ListingFilter | null, rules: NameRules, source: RawPath, onCollision: CollisionGuard['onCollision']): ListingFilter | null {
    if (!rules.caseInsensitive && !rules.normalizationInsensitive) return filter;
    const guard = new CollisionGuard(rules, source, onCollision);
    return { admit: (relative, dirents) => guard.admit(relative, filter ? filter.admit(relative, dirents) : dirents) };
  }

  admit(relative: RawPath, dirents: Dirent[]): Dirent[] {
    const keys = dirents.map((dirent) => this.key(dirent.name));
    if (new Set(keys).size === keys.length) return dirents;
    // The first of a group, in byte order, is the one copied: the same whichever order the listing came in.
    const first = new Map<string, RawPath>();
    for (let i = 0; i < dirents.length; i++) {
      const name = dirents[i]!.name;
      const kept = first.get(keys[i]!);
      if (kept === undefined || name < kept) first.set(keys[i]!, name);
    }
    return dirents.filter((dirent, i) => {
      const kept = first.get(keys[i]!)!;
      if (dirent.name === kept) return true;
      const relativePath = childPath(relative, dirent.name);
      this.onCollision(
        {
          code: 'ECASECOLLISION',
          message: `the destination takes its name for that of ${JSON.stringify(pathText(kept))}, copied instead (names that differ only in case or Unicode normalization)`,
          operation: 'write',
          path: joinRaw(this.source, relativePath),
        },
        relativePath,
        dirent.isDirectory(),
      );
      return false;
    });
  }

  private key(name: RawPath): string {
    let text = pathText(name);
    if (this.rules.normalizationInsensitive) text = text.normalize('NFC');
    return this.rules.caseInsensitive ? text.toLowerCase() : text;
  }
}
