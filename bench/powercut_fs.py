"""A file system that loses what a power cut loses: every write is kept in memory until the file
is fsync'ed (or fdatasync'ed), every create, rename and unlink until its folder is fsync'ed. Reading
the magic name `.powercut` throws away everything not synced since, as an SD card without power
would: files not yet named durably vanish, files named but never synced are left empty.

    python -m bench.powercut_fs MOUNTPOINT      (FUSE 3, foreground; unmount with fusermount3 -u)

The whole tree lives in this process's memory (a station's database is a few MB). Single-threaded
on purpose: the model is simpler to trust than to make fast.
"""

from __future__ import annotations

import errno
import itertools
import os
import stat
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import mfusepy as fuse

CUT = "/.powercut"


@dataclass
class Node:
    mode: int
    data: bytearray = field(default_factory=bytearray)
    durable: bytes | None = None  # the bytes that survive a cut (None: never synced)
    children: dict[str, Node] = field(default_factory=dict)  # a folder's names, as running
    durable_children: dict[str, Node] = field(default_factory=dict)  # as they survive a cut
    mtime: float = field(default_factory=time.time)

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.mode)


class PowerCutFs(fuse.Operations):
    use_ns = False

    def __init__(self) -> None:
        self.root = Node(stat.S_IFDIR | 0o755)
        self.open_files: dict[int, Node] = {}
        self.handles = itertools.count(1)
        self.cuts = 0

    # -- the model -------------------------------------------------------------------------------
    def _lookup(self, path: str) -> Node:
        node = self.root
        for part in [p for p in path.split("/") if p]:
            if not node.is_dir or part not in node.children:
                raise fuse.FuseOSError(errno.ENOENT)
            node = node.children[part]
        return node

    def _parent(self, path: str) -> tuple[Node, str]:
        folder, _, name = path.rstrip("/").rpartition("/")
        parent = self._lookup(folder or "/")
        if not parent.is_dir:
            raise fuse.FuseOSError(errno.ENOTDIR)
        return parent, name

    def cut(self) -> None:
        """The power goes: only what was synced is left."""
        self.cuts += 1
        self.open_files.clear()

        def restore(folder: Node) -> None:
            folder.children = dict(folder.durable_children)
            for child in folder.children.values():
                if child.is_dir:
                    restore(child)
                else:
                    child.data = bytearray(child.durable or b"")
        restore(self.root)

    # -- attributes and folders ------------------------------------------------------------------
    def getattr(self, path: str, fh: int | None = None) -> dict[str, Any]:
        if path == CUT:
            self.cut()
            raise fuse.FuseOSError(errno.ENOENT)
        node = self.open_files[fh] if fh in self.open_files else self._lookup(path)
        return {"st_mode": node.mode, "st_nlink": 2 if node.is_dir else 1,
                "st_size": len(node.data), "st_mtime": node.mtime, "st_ctime": node.mtime,
                "st_atime": node.mtime, "st_uid": os.getuid(), "st_gid": os.getgid()}

    def readdir(self, path: str, fh: int) -> list[str]:
        return [".", "..", *self._lookup(path).children]

    def mkdir(self, path: str, mode: int) -> None:
        parent, name = self._parent(path)
        if name in parent.children:
            raise fuse.FuseOSError(errno.EEXIST)
        parent.children[name] = Node(stat.S_IFDIR | mode)

    def rmdir(self, path: str) -> None:
        parent, name = self._parent(path)
        if self._lookup(path).children:
            raise fuse.FuseOSError(errno.ENOTEMPTY)
        del parent.children[name]

    def fsyncdir(self, path: str, datasync: int, fh: int) -> int:
        folder = self._lookup(path)
        folder.durable_children = dict(folder.children)
        return 0

    def chmod(self, path: str, mode: int) -> int:
        node = self._lookup(path)
        node.mode = (node.mode & ~0o7777) | (mode & 0o7777)
        return 0

    def chown(self, path: str, uid: int, gid: int) -> int:
        return 0

    def utimens(self, path: str, times: tuple[float, float] | None = None) -> int:
        self._lookup(path).mtime = times[1] if times else time.time()
        return 0

    def statfs(self, path: str) -> dict[str, int]:
        return {"f_bsize": 4096, "f_frsize": 4096, "f_blocks": 1 << 20, "f_bfree": 1 << 19,
                "f_bavail": 1 << 19, "f_files": 1 << 16, "f_ffree": 1 << 15, "f_namemax": 255}

    # -- names -----------------------------------------------------------------------------------
    def create(self, path: str, mode: int, fi: Any = None) -> int:
        parent, name = self._parent(path)
        node = parent.children.get(name) or Node(stat.S_IFREG | (mode & 0o7777))
        parent.children[name] = node
        return self._handle(node)

    def open(self, path: str, flags: int) -> int:
        node = self._lookup(path)
        if flags & os.O_TRUNC:
            node.data.clear()
        return self._handle(node)

    def _handle(self, node: Node) -> int:
        fh = next(self.handles)
        self.open_files[fh] = node
        return fh

    def release(self, path: str, fh: int) -> int:
        self.open_files.pop(fh, None)
        return 0

    def unlink(self, path: str) -> None:
        parent, name = self._parent(path)
        if name not in parent.children:
            raise fuse.FuseOSError(errno.ENOENT)
        del parent.children[name]

    def rename(self, old: str, new: str) -> None:
        old_parent, old_name = self._parent(old)
        new_parent, new_name = self._parent(new)
        if old_name not in old_parent.children:
            raise fuse.FuseOSError(errno.ENOENT)
        new_parent.children[new_name] = old_parent.children.pop(old_name)

    # -- bytes -----------------------------------------------------------------------------------
    def _node(self, path: str, fh: int | None) -> Node:
        return self.open_files[fh] if fh in self.open_files else self._lookup(path)

    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        return bytes(self._node(path, fh).data[offset:offset + size])

    def write(self, path: str, data: bytes, offset: int, fh: int) -> int:
        node = self._node(path, fh)
        if offset > len(node.data):
            node.data.extend(b"\0" * (offset - len(node.data)))
        node.data[offset:offset + len(data)] = data
        node.mtime = time.time()
        return len(data)

    def truncate(self, path: str, length: int, fh: int | None = None) -> int:
        node = self._node(path, fh)
        if length < len(node.data):
            del node.data[length:]
        else:
            node.data.extend(b"\0" * (length - len(node.data)))
        return 0

    def flush(self, path: str, fh: int) -> int:
        return 0  # close() is no sync: the bytes stay where they were

    def fsync(self, path: str, datasync: int, fh: int) -> int:
        node = self._node(path, fh)
        node.durable = bytes(node.data)
        return 0


def main(mountpoint: str) -> None:
    fuse.FUSE(PowerCutFs(), mountpoint, foreground=True, nothreads=True, attr_timeout=0,
              entry_timeout=0, negative_timeout=0)


if __name__ == "__main__":
    main(sys.argv[1])
