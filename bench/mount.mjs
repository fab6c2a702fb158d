// Where the bench writes. Not the root filesystem: it is ext4 without a
// journal, and there, right after `rm -rf` of a big tree, every create costs
// ~250 µs instead of ~10 µs for minutes (recently freed inodes are skipped), so
// back-to-back copies time the allocator, not the copier. A loop-mounted,
// journaled ext4 image behaves like a normal disk and keeps the heavy files
// off the root filesystem (the image file is sparse).
import fs from 'node:fs';
import path from 'node:path';
import { BenchError, hasTool, runSync, sleepSync } from './proc.mjs';

/**
 * @typedef {{root: string, image: string | null, mount: string | null, mountedHere: boolean,
 *            created: boolean, fs: {source: string, fstype: string, journal: boolean | null}}} Workspace
 */

/**
 * @param {{dir?: string, image: string, mount: string, imageSize: string}} opts
 * @param {(msg: string) => void} log
 * @returns {Workspace}
 */
export function setupWorkspace(opts, log) {
  if (opts.dir) {
    const root = path.resolve(opts.dir);
    fs.mkdirSync(root, { recursive: true });
    fs.accessSync(root, fs.constants.W_OK);
    const info = describeFs(root);
    if (info.journal === false) log(`warning: ${root} is on ${info.fstype} without a journal: file-creation timings there are distorted (see bench/README.md)`);
    return { root, image: null, mount: null, mountedHere: false, created: false, fs: info };
  }
  if (process.getuid?.() !== 0) {
    throw new BenchError('not root: cannot create and mount the ext4 image; run as root, or pass --dir <path> (a directory on a journaled filesystem) to bench there');
  }
  for (const tool of ['mount', 'umount', 'mkfs.ext4', 'findmnt', 'losetup', 'truncate']) {
    if (!hasTool(tool)) throw new BenchError(`${tool} not found: it is needed to set up the bench filesystem (or pass --dir <path>)`);
  }
  const image = path.resolve(opts.image);
  const mount = path.resolve(opts.mount);
  let created = false;
  let mountedHere = false;

  const current = mountSource(mount);
  if (current) {
    // Reuse a mount left by --keep-mounted, but never someone else's filesystem.
    const backing = loopBackingFile(current);
    if (backing !== image) {
      throw new BenchError(`${mount} is already mounted from ${backing ?? current}, not from ${image}: pick another --mount`);
    }
    log(`reusing ${image} already mounted on ${mount}`);
  } else {
    if (!fs.existsSync(image)) {
      checkHostSpace(path.dirname(image));
      log(`creating ${opts.imageSize} sparse ext4 image ${image}`);
      fs.mkdirSync(path.dirname(image), { recursive: true });
      runSync('truncate', ['-s', opts.imageSize, image]);
      // -i 4096: one inode per 4 KiB, so the huge corpus and its copy (2M+ entries) fit;
      // the default (one per 16 KiB) gives a 16G image only 1M inodes.
      // No lazy init: background zeroing of inode tables/journal would run during timings.
      runSync('mkfs.ext4', ['-F', '-q', '-i', '4096', '-E', 'lazy_itable_init=0,lazy_journal_init=0', image]);
      created = true;
    }
    fs.mkdirSync(mount, { recursive: true });
    runSync('mount', ['-o', 'loop', image, mount]);
    mountedHere = true;
    log(`mounted ${image} on ${mount}`);
  }
  return { root: mount, image, mount, mountedHere, created, fs: describeFs(mount) };
}

/**
 * Unmounts the image unless asked to keep it. Synchronous so it can run from
 * exit paths; retries because a just-killed child may still hold files open.
 * @param {Workspace | null} ws @param {{keepMounted: boolean}} opts @param {(msg: string) => void} log
 */
export function teardownWorkspace(ws, opts, log) {
  if (!ws || !ws.mount) return;
  if (opts.keepMounted) {
    log(`left ${ws.image} mounted on ${ws.mount} (--keep-mounted)`);
    return;
  }
  if (!mountSource(ws.mount)) return;
  // Deleted copies leave their blocks allocated in the sparse image file (it
  // grows to the high-water mark); hand them back to the host's disk.
  if (hasTool('fstrim')) {
    try {
      runSync('fstrim', [ws.mount]);
    } catch {
      /* only disk space is at stake */
    }
  }
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      runSync('umount', [ws.mount]);
      log(`unmounted ${ws.mount}`);
      return;
    } catch {
      sleepSync(250);
    }
  }
  // Still busy (e.g. our own half-written file during Ctrl-C): detach now; the
  // kernel finishes the unmount and frees the loop device when the last user exits.
  try {
    runSync('umount', ['-l', ws.mount]);
    log(`unmounted ${ws.mount} (lazily: it was still busy)`);
  } catch (error) {
    log(`could not unmount ${ws.mount} (${/** @type {Error} */ (error).message}); run: umount ${ws.mount}`);
  }
}

/** @param {string} mount @returns {string | null} the device mounted exactly there */
function mountSource(mount) {
  try {
    return runSync('findmnt', ['-n', '-o', 'SOURCE', '--mountpoint', mount]).trim() || null;
  } catch {
    return null; // findmnt exits 1 when nothing is mounted there
  }
}

/** @param {string} device @returns {string | null} */
function loopBackingFile(device) {
  if (!device.startsWith('/dev/loop')) return null;
  try {
    return runSync('losetup', ['-n', '-O', 'BACK-FILE', device]).trim() || null;
  } catch {
    return null;
  }
}

/** The image is sparse, but the corpora and copies really use ~8 GB (~17 GB with huge). */
function checkHostSpace(dir) {
  let probe = dir;
  while (!fs.existsSync(probe)) probe = path.dirname(probe);
  const st = fs.statfsSync(probe);
  const free = st.bavail * st.bsize;
  if (free < 10e9) {
    throw new BenchError(`only ${(free / 1e9).toFixed(1)} GB free under ${probe}: the bench image needs ~10 GB of real space (more with --huge-files)`);
  }
}

/**
 * Which filesystem a path is on, and whether it journals (jbd2 lists every
 * journaled ext3/ext4 device under /proc/fs/jbd2/<dev>-<n>).
 * @param {string} dir
 */
export function describeFs(dir) {
  try {
    const [source = '', fstype = ''] = runSync('findmnt', ['-n', '-o', 'SOURCE,FSTYPE', '-T', dir]).trim().split(/\s+/);
    let journal = null;
    if (fstype === 'ext4' || fstype === 'ext3') {
      const dev = path.basename(source);
      journal = fs.existsSync('/proc/fs/jbd2') && fs.readdirSync('/proc/fs/jbd2').some((e) => e.startsWith(`${dev}-`));
    }
    return { source, fstype, journal };
  } catch {
    return { source: 'unknown', fstype: 'unknown', journal: null };
  }
}
