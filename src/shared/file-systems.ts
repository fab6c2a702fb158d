/**
 * Whether a path is on a file system where each request is a round trip (NFS,
 * SMB, a FUSE mount such as sshfs): there, work that waits on the file system
 * pays for more of it in flight at once (more workers than cores; many stats at
 * once), where on a local disk it only adds overhead. statfs's f_type tells them apart.
 */
import fs from 'node:fs';

const NETWORK_FILE_SYSTEMS = new Set([0x6969 /* NFS */, 0xff534d42 /* CIFS */, 0xfe534d42 /* SMB2 */, 0x517b /* SMB */, 0x65735546 /* FUSE */]);

/**
 * Requests kept in flight at once where each is a round trip (the check's lookups, the finalize's,
 * the directories' times): Node's thread pool runs them, and the CLI gives it as many threads (main.ts).
 */
export const NETWORK_REQUESTS_AT_ONCE = 16;

/** False where statfs cannot say. */
export function onNetworkFileSystem(path: fs.PathLike): boolean {
  try {
    return NETWORK_FILE_SYSTEMS.has(fs.statfsSync(path).type);
  } catch {
    return false;
  }
}
