/**
 * Hashes that need not be recomputed: with --manifest, each file's hash is
 * recorded beside the stats of both sides it was true for (device, inode, size,
 * mtime and ctime to the nanosecond; run/hash-state-file.ts keeps them in a
 * sidecar of the manifest). A re-run ships a file's record with its job, and the
 * worker takes the recorded hash instead of reading a side whose stats are all
 * unchanged. ctime is what makes this sound: no call sets it, and any write,
 * truncate, chmod or utimes (a `touch -d` hiding a change) moves it to now.
 *
 * Keys are strings: they cross the IPC channel as JSON, and compare in one step.
 */
import fs from 'node:fs';

/** What a side's content hash is matched on. */
export interface StatKeyed {
  dev: number;
  ino: number;
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/** A previous run's record of one file, shipped with its job (FileJob.recorded). */
export interface RecordedHash {
  /** SHA-256 in hex of the content both sides held. */
  hash: string;
  /** The source's statKey when it was hashed. */
  source: string;
  /** The copy's statKey, when its content was known to be `hash` (written from it, compared, or read back). */
  destination?: string;
  /** The copy was read back from the disk (--verify) with that content: --verify may skip reading it. */
  readBack?: true;
}

/** What a worker found of one file, for the next run's record (JobResult.state); the hash is the result's digest. */
export type FileState = Omit<RecordedHash, 'hash'>;

export function statKey({ dev, ino, size, mtimeNs, ctimeNs }: StatKeyed): string {
  return `${dev}:${ino}:${size}:${mtimeNs}:${ctimeNs}`;
}

/**
 * statfs f_type of file systems whose ctime is not a change time the kernel keeps:
 * FAT and exFAT have none (Linux shows the mtime, which `touch -d` sets), FUSE,
 * 9p and VirtualBox shares report whatever their server or daemon says, and some
 * FUSE file systems make inode numbers up per lookup. A recorded hash is never
 * taken there.
 */
const UNTRUSTED_TYPES = new Set([
  0x4d44, // msdos, vfat
  0x2011bab0, // exfat
  0x65735546, // fuse
  0x01021997, // v9fs
  0x786f4256, // vboxsf
]);

/** Per device: whether its file system keeps a real ctime; asked once per device, by any path on it. */
const trusted = new Map<number, boolean>();

/** Whether a record of a file on `dev` can be trusted; `path` names something on that file system. */
export function trustsStats(dev: number, path: () => string | Buffer): boolean {
  let known = trusted.get(dev);
  if (known === undefined) {
    try {
      known = !UNTRUSTED_TYPES.has(fs.statfsSync(path()).type);
    } catch {
      known = false;
    }
    trusted.set(dev, known);
  }
  return known;
}
