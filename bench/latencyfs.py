#!/usr/bin/python3
"""latencyfs: a pass-through FUSE file system that waits DELAY_MS before answering each request.

It stands in for a network mount (NFS, SMB, sshfs) whose every round trip costs DELAY_MS: the
bench copies onto it to see how much a copier gains by keeping several requests in flight.
libfuse runs each request on its own thread and the wait releases Python's lock, so requests
that arrive together wait together, as they would on a network. Names and attributes are
cached by the kernel for a second, like an NFS client's attribute cache.

    /usr/bin/python3 bench/latencyfs.py BACKING_DIR MOUNTPOINT DELAY_MS &
    ...
    fusermount -u MOUNTPOINT        # (or umount MOUNTPOINT as root); the process then exits

LATENCYFS_STATS=FILE in the environment: count requests by kind, written to FILE as JSON on unmount.
Needs Debian's python3-fusepy (apt-get install python3-fusepy fuse3) and root (allow_other).
Times pass through in nanoseconds, so a copy onto it keeps exact mtimes.
"""
import collections
import errno
import json
import os
import sys
import threading
import time

try:  # Debian ships fusepy as `fusepy`; pip's package calls the module `fuse`
    from fusepy import FUSE, FuseOSError, Operations, fuse_get_context
except ImportError:
    from fuse import FUSE, FuseOSError, Operations, fuse_get_context

# Calls libfuse makes once, at mount and unmount, not for a request: they do not wait.
NO_ROUND_TRIP = frozenset(('init', 'destroy'))
STAT_FIELDS = ('st_mode', 'st_ino', 'st_nlink', 'st_uid', 'st_gid', 'st_size', 'st_blocks', 'st_rdev')
STATFS_FIELDS = ('f_bsize', 'f_frsize', 'f_blocks', 'f_bfree', 'f_bavail', 'f_files', 'f_ffree',
                 'f_favail', 'f_flag', 'f_namemax')


class Latency(Operations):
    use_ns = True  # utimens and getattr deal in integer nanoseconds: no float rounding of mtimes

    def __init__(self, backing, delay_s, stats_path=None):
        self.backing = os.path.realpath(backing)
        self.delay_s = delay_s
        self.stats_path = stats_path  # LATENCYFS_STATS: requests counted by kind, written on unmount
        self.counts = collections.Counter()
        # not `self.lock`: fusepy takes any attribute named like an operation for that operation
        self.counts_lock = threading.Lock()

    def __call__(self, op, *args):
        if self.stats_path:
            with self.counts_lock:
                self.counts[op] += 1
        # Every request pays the round trip, failed ones too, as on a network.
        if self.delay_s > 0 and op not in NO_ROUND_TRIP:
            time.sleep(self.delay_s)
        handler = getattr(self, op, None)
        if handler is None:
            raise FuseOSError(errno.ENOSYS)
        try:
            return handler(*args)
        except OSError as e:
            raise FuseOSError(e.errno or errno.EIO)

    def destroy(self, path):
        if self.stats_path:
            with self.counts_lock, open(self.stats_path, 'w') as f:
                json.dump(dict(self.counts), f, indent=1, sort_keys=True)

    def real(self, path):
        return self.backing + path

    def own(self, path):
        """Created entries belong to the caller, not to this process."""
        uid, gid, _pid = fuse_get_context()
        if (uid, gid) != (os.geteuid(), os.getegid()):
            os.lchown(self.real(path), uid, gid)

    # --- attributes
    def getattr(self, path, fh=None):
        st = os.fstat(fh) if fh is not None else os.lstat(self.real(path))
        attrs = {name: getattr(st, name) for name in STAT_FIELDS}
        attrs.update(st_atime=st.st_atime_ns, st_mtime=st.st_mtime_ns, st_ctime=st.st_ctime_ns)
        return attrs

    def access(self, path, amode):
        if not os.access(self.real(path), amode, follow_symlinks=False):
            raise FuseOSError(errno.EACCES)
        return 0

    def chmod(self, path, mode):
        os.chmod(self.real(path), mode)

    def chown(self, path, uid, gid):
        os.lchown(self.real(path), uid, gid)

    def utimens(self, path, times=None):
        if times is None:
            os.utime(self.real(path), follow_symlinks=False)
        else:
            os.utime(self.real(path), ns=(int(times[0]), int(times[1])), follow_symlinks=False)

    def truncate(self, path, length, fh=None):
        if fh is not None:
            os.ftruncate(fh, length)
        else:
            os.truncate(self.real(path), length)

    def statfs(self, path):
        st = os.statvfs(self.real(path))
        return {name: getattr(st, name) for name in STATFS_FIELDS}

    # --- extended attributes
    def getxattr(self, path, name, position=0):
        return os.getxattr(self.real(path), name, follow_symlinks=False)

    def listxattr(self, path):
        return os.listxattr(self.real(path), follow_symlinks=False)

    def setxattr(self, path, name, value, options, position=0):
        os.setxattr(self.real(path), name, value, options, follow_symlinks=False)

    def removexattr(self, path, name):
        os.removexattr(self.real(path), name, follow_symlinks=False)

    # --- names
    def readdir(self, path, fh):
        return ['.', '..', *os.listdir(self.real(path))]

    def readlink(self, path):
        return os.readlink(self.real(path))

    def mkdir(self, path, mode):
        os.mkdir(self.real(path), mode)
        self.own(path)

    def mknod(self, path, mode, dev):
        os.mknod(self.real(path), mode, dev)
        self.own(path)

    def symlink(self, target, source):  # fusepy's order: the new link's path, then what it points to
        os.symlink(source, self.real(target))
        self.own(target)

    def link(self, target, source):  # the new name, then the existing file
        os.link(self.real(source), self.real(target))

    def rename(self, old, new):
        os.rename(self.real(old), self.real(new))

    def unlink(self, path):
        os.unlink(self.real(path))

    def rmdir(self, path):
        os.rmdir(self.real(path))

    # --- file contents
    def create(self, path, mode, fi=None):
        fd = os.open(self.real(path), os.O_RDWR | os.O_CREAT | os.O_TRUNC, mode)
        self.own(path)
        return fd

    def open(self, path, flags):
        return os.open(self.real(path), flags)

    def read(self, path, size, offset, fh):
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        return os.pwrite(fh, data, offset)

    def flush(self, path, fh):
        return 0

    def fsync(self, path, datasync, fh):
        if datasync:
            os.fdatasync(fh)
        else:
            os.fsync(fh)

    def release(self, path, fh):
        os.close(fh)


def main(argv):
    if len(argv) != 4:
        sys.exit(f'usage: {argv[0]} BACKING_DIR MOUNTPOINT DELAY_MS')
    backing, mountpoint, delay_ms = argv[1], argv[2], float(argv[3])
    if not os.path.isdir(backing):
        sys.exit(f'latencyfs: {backing} is not a directory')
    os.umask(0)  # the kernel has applied the caller's umask already
    FUSE(Latency(backing, delay_ms / 1000, os.environ.get('LATENCYFS_STATS')), mountpoint, foreground=True, nothreads=False,
         allow_other=True, default_permissions=True, use_ino=True,
         attr_timeout=1, entry_timeout=1, fsname='latencyfs')


if __name__ == '__main__':
    main(sys.argv)
