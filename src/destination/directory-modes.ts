/**
 * When mkdir can give a directory its final mode at once, saving a chmod each
 * at the end: the umask takes nothing from it, and the parent hands nothing
 * down (a set-group-ID bit, a default ACL that masks modes), which one stat per
 * parent and mode tells.
 */
import fs from 'node:fs';
import { parentOf, type FsPath, type RawPath } from '../shared/raw-path.js';
import type { DirectoryEntry } from '../source/entry.js';

const OWNER_RWX = 0o700;
const PERMISSION_BITS = 0o777;

/** The process's umask, read without setting it; null where /proc does not say. */
function readUmask(): number | null {
  try {
    const match = /^Umask:\s*([0-7]+)$/m.exec(fs.readFileSync('/proc/self/status', 'latin1'));
    return match ? parseInt(match[1]!, 8) : null;
  } catch {
    return null;
  }
}

export class DirectoryModes {
  private readonly umask = readUmask();
  /**
   * Per parent directory, the mode bits mkdir is known to keep there, or -1 once a
   * directory came out with another mode (a set-group-ID or default-ACL parent).
   */
  private readonly keptBits = new Map<RawPath, number>();

  /**
   * Whether mkdir can make this directory with its final mode: the umask takes
   * nothing from it, the owner can still write into it, no special bit, no chown
   * to follow (which would open a window under our group). The root is made
   * private and gets its mode last.
   */
  mkdirGivesExactly(entry: DirectoryEntry, chown: boolean): boolean {
    return (
      this.umask !== null &&
      entry.path !== '' &&
      !chown &&
      (entry.mode & ~PERMISSION_BITS) === 0 &&
      (entry.mode & OWNER_RWX) === OWNER_RWX &&
      (entry.mode & this.umask) === 0 &&
      this.keptBits.get(parentOf(entry.path) ?? '') !== -1
    );
  }

  /** Whether the directory just made at `target` has `mode`: a stat the first time these bits are asked for under its parent. */
  keeps(relativePath: RawPath, target: FsPath, mode: number): boolean {
    const parent = parentOf(relativePath) ?? '';
    const kept = this.keptBits.get(parent) ?? 0;
    if ((mode & ~kept) === 0) return true;
    const keeps = Number(fs.lstatSync(target, { bigint: true }).mode & 0o7777n) === mode;
    this.keptBits.set(parent, keeps ? kept | mode : -1);
    return keeps;
  }
}
