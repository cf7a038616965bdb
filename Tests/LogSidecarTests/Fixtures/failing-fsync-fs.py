#!/usr/bin/env python3
"""A pass-through FUSE filesystem whose fsync fails with EIO while FLAG exists, as a disk with a bad
sector does, and which logs every write, fsync and rename (so a test can see the order they came in).
usage: failing-fsync-fs.py BACKING MOUNTPOINT FLAG LOG   (runs in the foreground; needs root and fusepy)"""
import errno
import os
import sys

from fuse import FUSE, FuseOSError, Operations


class FailingFsync(Operations):
    def __init__(self, root, flag, log):
        self.root, self.flag = root, flag
        self.log = open(log, "a", buffering=1)

    def _path(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def getattr(self, path, fh=None):
        st = os.lstat(self._path(path))
        keys = ("st_atime", "st_ctime", "st_gid", "st_mode", "st_mtime", "st_nlink", "st_size", "st_uid")
        return {key: getattr(st, key) for key in keys}

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._path(path))

    def mkdir(self, path, mode):
        os.mkdir(self._path(path), mode)

    def rename(self, old, new):
        self.log.write(f"rename {old} {new}\n")
        os.rename(self._path(old), self._path(new))

    def unlink(self, path):
        os.unlink(self._path(path))

    def open(self, path, flags):
        return os.open(self._path(path), flags)

    def create(self, path, mode, fi=None):
        return os.open(self._path(path), os.O_WRONLY | os.O_CREAT, mode)

    def read(self, path, size, offset, fh):
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        self.log.write(f"write {path}\n")
        return os.pwrite(fh, data, offset)

    def truncate(self, path, length, fh=None):
        os.truncate(self._path(path), length)

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        os.close(fh)

    def fsync(self, path, datasync, fh):
        if os.path.exists(self.flag):
            self.log.write(f"fsync-failed {path}\n")
            raise FuseOSError(errno.EIO)
        self.log.write(f"fsync {path}\n")
        os.fsync(fh)


if __name__ == "__main__":
    backing, mountpoint, flag, log = sys.argv[1:5]
    FUSE(FailingFsync(backing, flag, log), mountpoint, foreground=True, nothreads=True)
