// Where the bench writes. Not the root filesystem: it is ext4 without a
// journal, and there, right after `rm -rf` of a big tree, every create costs
// ~250 µs instead of ~10 µs for minutes (recently freed inodes are skipped), so
// back-to-back copies time the allocator, not the copier. A loop-mounted,
// journaled ext4 image behaves like a normal disk and keeps the heavy files
// off the root filesystem (the image file is sparse). The btrfs and XFS rows
// get images of their own, made and mounted the same way.
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
  return mountImage({ fstype: 'ext4', image: opts.image, mount: opts.mount, size: opts.imageSize, needFree: 10e9 }, log);
}

/**
 * How each filesystem's image is made. No lazy init anywhere: background work would run during timings.
 * @type {Record<'ext4' | 'btrfs' | 'xfs', (image: string) => [string, string[]]>}
 */
const MKFS = {
  // -i 4096: one inode per 4 KiB, so the huge corpus and its copy (2M+ entries) fit;
  // the default (one per 16 KiB) gives a 16G image only 1M inodes.
  ext4: (image) => ['mkfs.ext4', ['-F', '-q', '-i', '4096', '-E', 'lazy_itable_init=0,lazy_journal_init=0', image]],
  btrfs: (image) => ['mkfs.btrfs', ['-f', '-q', image]],
  // reflink=1 is mkfs.xfs's default since xfsprogs 5.1; explicit, since cp -a's clones are the point
  xfs: (image) => ['mkfs.xfs', ['-f', '-q', '-m', 'reflink=1', image]],
};
/** Debian packages of the mkfs tools, for the error message. */
export const MKFS_PACKAGE = { ext4: 'e2fsprogs', btrfs: 'btrfs-progs', xfs: 'xfsprogs' };

/**
 * Mounts a loop image of the given filesystem, creating it (sparse) when
 * missing; reuses it when a previous --keep-mounted run left it mounted.
 * @param {{fstype: 'ext4' | 'btrfs' | 'xfs', image: string, mount: string, size: string, needFree: number}} spec
 * @param {(msg: string) => void} log
 * @returns {Workspace}
 */
export function mountImage(spec, log) {
  const [mkfs, mkfsArgs] = MKFS[spec.fstype](path.resolve(spec.image));
  for (const tool of ['mount', 'umount', mkfs, 'findmnt', 'losetup', 'truncate']) {
    if (!hasTool(tool)) {
      const pkg = tool === mkfs ? ` (apt-get install ${MKFS_PACKAGE[spec.fstype]})` : '';
      throw new BenchError(`${tool} not found: it is needed to set up the ${spec.fstype} bench filesystem${pkg}`);
    }
  }
  const image = path.resolve(spec.image);
  const mount = path.resolve(spec.mount);
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
      checkHostSpace(path.dirname(image), spec.needFree);
      log(`creating ${spec.size} sparse ${spec.fstype} image ${image}`);
      fs.mkdirSync(path.dirname(image), { recursive: true });
      runSync('truncate', ['-s', spec.size, image]);
      try {
        runSync(mkfs, mkfsArgs);
      } catch (error) {
        fs.rmSync(image, { force: true }); // a half-made image would be mounted next time
        throw error;
      }
      created = true;
    }
    fs.mkdirSync(mount, { recursive: true });
    try {
      runSync('mount', ['-o', 'loop', image, mount]);
    } catch (error) {
      detachLoops(image);
      throw error;
    }
    mountedHere = true;
    log(`mounted ${image} on ${mount}`);
  }
  return { root: mount, image, mount, mountedHere, created, fs: describeFs(mount) };
}

/**
 * The image and mount point of another filesystem beside the ext4 one:
 * /var/tmp/foldercopy-bench.img → /var/tmp/foldercopy-bench-btrfs.img,
 * /mnt/foldercopy-bench → /mnt/foldercopy-bench-btrfs.
 * @param {{image: string, mount: string}} opts @param {string} fstype
 */
export function siblingImage(opts, fstype) {
  const image = path.resolve(opts.image);
  const ext = path.extname(image);
  return {
    image: `${image.slice(0, image.length - ext.length)}-${fstype}${ext}`,
    mount: `${path.resolve(opts.mount)}-${fstype}`,
  };
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
  if (!mountSource(ws.mount)) {
    if (ws.image) detachLoops(ws.image);
    return;
  }
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
      if (ws.image) detachLoops(ws.image);
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

/**
 * `mount -o loop` sets autoclear, so unmounting frees the loop device; this
 * catches one left attached anyway (a mount that failed half-way, an older tool).
 * A device still busy (after a lazy unmount) is left to autoclear.
 * @param {string} image
 */
function detachLoops(image) {
  let list = '';
  try {
    list = runSync('losetup', ['-n', '-O', 'NAME', '-j', image]);
  } catch {
    return;
  }
  for (const dev of list.split('\n').map((l) => l.trim()).filter(Boolean)) {
    try {
      runSync('losetup', ['-d', dev]);
    } catch {
      /* busy: autoclear frees it when its last user goes */
    }
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
function checkHostSpace(dir, need) {
  let probe = dir;
  while (!fs.existsSync(probe)) probe = path.dirname(probe);
  const st = fs.statfsSync(probe);
  const free = st.bavail * st.bsize;
  if (free < need) {
    throw new BenchError(`only ${(free / 1e9).toFixed(1)} GB free under ${probe}: the bench image needs ~${(need / 1e9).toFixed(0)} GB of real space (more with --huge-files)`);
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
