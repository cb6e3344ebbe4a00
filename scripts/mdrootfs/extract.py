#!/usr/bin/env python3
"""extract.py: mdrootfs.sh's tar and image extractor. Run by the scripts
beside it as `python3 -I -S extract.py MODE SRC DEST MAX_BYTES MAX_ENTRIES
TTY SYSTEM ROOT` (MODE: tar, image, stdin or sweep; TTY, SYSTEM, ROOT: 0 or
1, ROOT when real root runs it); tests/mdrootfs/
test_extract.py tests it as a module."""
#
# Why python3 (on every Debian and Ubuntu) and not tar: GNU tar run by a user
# follows a symlink that an earlier member planted when a later member is
# written beneath it unless it happens to delay that link, resolves hard
# links by name, and cannot say "no" to a whole archive; checking its `-tv`
# listing first means parsing text meant for humans and reading the archive
# twice. The extractor below decides member by member with every path
# walked through directory fds opened O_NOFOLLOW, so what it writes cannot
# leave the target whatever the archive holds: absolute names and '..' are
# refused, links are created but never followed, a member under a link is
# refused, hard links resolve inside the target only, device nodes are
# skipped unless we are real root (one summary line), and size and entry
# caps stop a tarball bomb. Decompression runs in gzip/xz/zstd/bzip2 as a
# separate process, in parallel with the extraction.
#
# A system rootfs (--system, root) is on a host mount with suid and dev and
# reachable by every user, while containers mount it nosuid,nodev and
# read-only, with a /dev of their own: it gains nothing from set-id bits,
# device nodes, write permission for group or other, or owners other than
# root, and each would hand the host to a student whose archive root
# imported (SECURITY.md 51). So the extractor, told "system", never creates
# them, whatever the archive says, and prints one line per class with a
# count; `sweep` does the same to a tree mmdebstrap built as root. Nothing
# here sets extended attributes, so no file capability comes from an
# archive. A user's own rootfs needs none of this: it is theirs, so what it
# holds gives them no right they lack (as "root" of their user namespace
# they own their subordinate ids already), device nodes need real root,
# and the helper mounts it nosuid,nodev.

import errno, hashlib, io, json, os, re, stat, subprocess, sys, tarfile, threading, time

PROG = os.environ.get("MD_PROG", "mdrootfs.sh")
NOFOLLOW_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
CHUNK = 1 << 20


class Refused(Exception):
    """The input is bad or hostile: say why, unpack nothing more."""


class BadInput(Refused):
    """The archive's path itself is refused: its one line is all the
    caller prints (exit status 4)."""


# ---- opening the archive, as root too
#
# `sudo mdrootfs.sh --system import ~student/x.tar` has root read a path a
# student controls (SECURITY.md 50). Root must open what the administrator
# named, once, and nothing else: not a fifo that blocks forever, not
# /dev/zero (endless) or another device, not a root-only file a planted
# symlink or a hard link points at, whose contents would become a rootfs
# every user can read. So, as root: every component is opened O_NOFOLLOW
# from /, the last one is lstat'ed and must be a regular file (or an image
# layout directory), it is opened O_NONBLOCK|O_NOFOLLOW and must be the
# very file just checked, and in a directory that is not root's alone it
# must belong to the directory's owner or be readable by everyone. Others
# open the path as before, but never block on a fifo nor read a device.
KINDS = ((stat.S_ISFIFO, "a fifo"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
         (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symbolic link"))
OPEN_INPUT = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


def kind(mode):
    for test, name in KINDS:
        if test(mode):
            return name
    return "not a regular file"


def check_kind(path, st, dirs):
    if stat.S_ISREG(st.st_mode) or (dirs and stat.S_ISDIR(st.st_mode)):
        return
    raise BadInput("%s is %s, not a%s file" % (path, kind(st.st_mode), " regular or image layout" if dirs else " regular"))


def check_secret(path, dst, st):
    """In a directory another user controls, a file that is neither theirs
    nor readable by all is someone else's secret (a hard link to it)."""
    if dst.st_uid == 0 and not dst.st_mode & 0o022:
        return
    if st.st_uid == dst.st_uid or st.st_mode & 0o004:
        return
    raise BadInput("%s belongs to uid %d and others may not read it, in a directory of uid %d: "
                   "root does not copy it into a rootfs everyone can read" % (path, st.st_uid, dst.st_uid))


def walk_nofollow(path):
    """The directory fd holding path's last component, reached from / (or
    the working directory) without following any symbolic link."""
    parts = path.split("/")
    fd = os.open("/" if path.startswith("/") else ".", NOFOLLOW_DIR)
    try:
        for i, p in enumerate(parts[:-1]):
            if p in ("", "."):
                continue
            try:
                nfd = os.open(p, NOFOLLOW_DIR, dir_fd=fd)
            except OSError as e:
                if e.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                where = "/".join(parts[:i + 1]) or "/"
                raise BadInput("%s has a symbolic link in its path (%s): as root, give the archive's real path"
                               % (path, where))
            os.close(fd)
            fd = nfd
    except BaseException:
        os.close(fd)
        raise
    return fd, parts[-1] or "."


def open_input(path, dirs, strict):
    """Open the archive (or, with dirs, an image layout directory) once;
    returns its fd. strict: the rules for root."""
    flags = OPEN_INPUT | (os.O_NOFOLLOW if strict else 0)
    if not strict:
        fd = os.open(path, flags)
        try:
            check_kind(path, os.fstat(fd), dirs)
        except BaseException:
            os.close(fd)
            raise
        return fd
    dfd, leaf = walk_nofollow(path)
    try:
        st = os.stat(leaf, dir_fd=dfd, follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            raise BadInput("%s is a symbolic link: as root, give the archive's real path" % path)
        check_kind(path, st, dirs)
        check_secret(path, os.fstat(dfd), st)
        fd = os.open(leaf, flags | (os.O_DIRECTORY if stat.S_ISDIR(st.st_mode) else 0), dir_fd=dfd)
    finally:
        os.close(dfd)
    got = os.fstat(fd)
    if (got.st_dev, got.st_ino) != (st.st_dev, st.st_ino):
        os.close(fd)
        raise BadInput("%s changed while it was being opened: try again" % path)
    return fd


def split_name(name, what="member"):
    """A member name as a tuple of components, inside the target by
    construction: absolute names and ".." are refused, never rewritten."""
    if name.startswith("/"):
        raise Refused("%s '%s' has an absolute path" % (what, name))
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise Refused("%s '%s' contains '..'" % (what, name))
    return parts


class Tree:
    """Writes into one directory, opened once. Every path is walked one
    component at a time with O_NOFOLLOW relative to the previous
    directory's fd, so no symlink, whoever made it, is ever followed: a
    member cannot be written through a link, and a link cannot lead out."""

    def __init__(self, root, max_bytes, max_entries, progress, system=False):
        self.root = os.open(root, NOFOLLOW_DIR)
        self.max_bytes, self.max_entries = max_bytes, max_entries
        self.bytes = self.entries = 0
        self.devices = self.owners_lost = 0
        # A system rootfs: what was dropped or changed, by class.
        self.system = system
        self.setid = self.writable = self.owners_root = self.caps = 0
        self.dirs = {}  # parts -> (mode, mtime, uid, gid): applied at the end
        self.cache = {}  # parts -> fd of a directory we walked to
        self.root_mode = os.geteuid() == 0
        self.progress = progress
        self.last = 0.0
        self.layer = None  # paths made by the current image layer
        self.image_config = None  # the image's config file, by name
        self.quiet_devices = False

    # ---- walking
    def dirfd(self, parts, create=True, name=None):
        if not parts:
            return self.root
        fd = self.cache.get(parts)
        if fd is not None:
            return fd
        parent = self.dirfd(parts[:-1], create, name)
        leaf = parts[-1]
        try:
            fd = os.open(leaf, NOFOLLOW_DIR, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                raise Refused("member '%s': '%s' does not exist" % (name, "/".join(parts)))
            os.mkdir(leaf, 0o700, dir_fd=parent)
            fd = os.open(leaf, NOFOLLOW_DIR, dir_fd=parent)
            self.dirs.setdefault(parts, (0o755, None, None, None))
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.ENOTDIR):
                raise Refused("member '%s' has a symbolic link or a file (%s) in its path"
                              % (name, "/".join(parts)))
            raise
        if len(self.cache) > 256:
            self.forget(())
        self.cache[parts] = fd
        return fd

    def forget(self, prefix):
        """Close cached fds at or under prefix (it is being removed)."""
        n = len(prefix)
        for p in [p for p in self.cache if p[:n] == prefix]:
            os.close(self.cache.pop(p))

    def lstat(self, fd, leaf):
        try:
            return os.stat(leaf, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def remove(self, parts, fd, leaf, st):
        """Remove what is at parts (a tree too), never following links."""
        if st is None:
            return
        if not stat.S_ISDIR(st.st_mode):
            os.unlink(leaf, dir_fd=fd)
            return
        self.forget(parts)
        sub = os.open(leaf, NOFOLLOW_DIR, dir_fd=fd)
        try:
            os.chmod(sub, 0o700)
            for child in os.listdir(sub):
                self.remove(parts + (child,), sub, child, self.lstat(sub, child))
        finally:
            os.close(sub)
        os.rmdir(leaf, dir_fd=fd)

    # ---- counting
    def count(self, size):
        self.entries += 1
        if self.entries > self.max_entries:
            raise Refused("more than %d entries: refusing a tar bomb (raise --max-entries)" % self.max_entries)
        self.bytes += size
        if self.bytes > self.max_bytes:
            raise Refused("more than %d bytes of file data: refusing a tar bomb (raise --max-size)" % self.max_bytes)
        if self.progress and time.monotonic() - self.last > 0.5:
            self.last = time.monotonic()
            sys.stderr.write("\r%s: %s: %d MiB, %d entries " % (PROG, self.progress, self.bytes >> 20, self.entries))

    # ---- metadata
    def owner(self, chown, m):
        if not self.root_mode:
            return
        uid = m.uid
        if self.system and uid != 0:
            uid = 0
            self.owners_root += 1
        try:
            chown(uid, m.gid)
        except OSError as e:
            # EINVAL: the id is not mapped in our user namespace.
            if e.errno not in (errno.EINVAL, errno.EPERM):
                raise
            self.owners_lost += 1

    def safe_mode(self, mode):
        """A system rootfs keeps no set-id bit and no write permission
        for group or other (SECURITY.md 51); sticky bits are harmless."""
        if not self.system:
            return mode
        if mode & 0o6000:
            self.setid += 1
        if mode & 0o022:
            self.writable += 1
        return mode & ~0o6022

    # ---- one member
    def add(self, tar, m):
        parts = split_name(m.name)
        if not parts:
            return  # "./": the target itself keeps its own mode
        self.count(m.size if m.isreg() else 0)
        base = parts[-1]
        if self.layer is not None:
            if base.startswith(".wh."):
                return self.whiteout(parts)
            self.layer.add(parts)
        fd = self.dirfd(parts[:-1], True, m.name)
        if m.isdir():
            try:
                os.mkdir(base, 0o700, dir_fd=fd)
            except FileExistsError:
                st = self.lstat(fd, base)
                if not stat.S_ISDIR(st.st_mode):
                    self.remove(parts, fd, base, st)
                    os.mkdir(base, 0o700, dir_fd=fd)
            self.dirs[parts] = (self.safe_mode(stat.S_IMODE(m.mode)), m.mtime, m.uid, m.gid)
            return
        # Create first, and only when the name is taken (a later member
        # replaces an earlier one, or a layer a lower one) remove what is
        # there - never following it - and create again: one stat saved on
        # nearly every member.
        try:
            self.create(tar, m, fd, base)
        except FileExistsError:
            self.remove(parts, fd, base, self.lstat(fd, base))
            self.create(tar, m, fd, base)

    def create(self, tar, m, fd, base):
        if m.isreg():
            self.regular(tar, m, fd, base)
        elif m.issym():
            os.symlink(m.linkname, base, dir_fd=fd)
            self.owner(lambda u, g: os.chown(base, u, g, dir_fd=fd, follow_symlinks=False), m)
            os.utime(base, (m.mtime, m.mtime), dir_fd=fd, follow_symlinks=False)
        elif m.islnk():
            tparts = split_name(m.linkname, "hard link target of '%s':" % m.name)
            if not tparts:
                raise Refused("member '%s' is a hard link to the top directory" % m.name)
            tfd = self.dirfd(tparts[:-1], False, m.name)
            try:
                os.link(tparts[-1], base, src_dir_fd=tfd, dst_dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                raise Refused("member '%s' is a hard link to '%s', which is not in the archive"
                              % (m.name, m.linkname))
        elif m.ischr() or m.isblk():
            kind = stat.S_IFCHR if m.ischr() else stat.S_IFBLK
            try:
                if not self.root_mode or self.system:
                    raise PermissionError
                os.mknod(base, kind | stat.S_IMODE(m.mode), os.makedev(m.devmajor, m.devminor), dir_fd=fd)
                self.owner(lambda u, g: os.chown(base, u, g, dir_fd=fd, follow_symlinks=False), m)
            except PermissionError:
                self.devices += 1
        elif m.isfifo():
            os.mkfifo(base, self.safe_mode(stat.S_IMODE(m.mode)), dir_fd=fd)
            self.owner(lambda u, g: os.chown(base, u, g, dir_fd=fd, follow_symlinks=False), m)
        else:
            raise Refused("member '%s' has an unsupported type %r" % (m.name, m.type))

    def regular(self, tar, m, fd, base):
        # Created with its final permissions (umask is 0): writing goes
        # through this fd, whatever the mode says.
        mode = self.safe_mode(stat.S_IMODE(m.mode))
        out = os.open(base, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                      mode & 0o777, dir_fd=fd)
        try:
            left = m.size
            if not m.sparse and getattr(tar.fileobj, "fd", None) is not None:
                left = self.copy_range(tar.fileobj.fd, out, m)
            src = tar.extractfile(m)
            while left > 0:
                buf = src.read(min(CHUNK, left))
                if not buf:
                    raise Refused("member '%s' is truncated" % m.name)
                left -= len(buf)
                view = memoryview(buf)
                while view:
                    view = view[os.write(out, view):]
            self.owner(lambda u, g: os.fchown(out, u, g), m)
            if mode & 0o7000:
                os.fchmod(out, mode)  # set-id bits: after chown, which clears them
            os.utime(out, (m.mtime, m.mtime))
        finally:
            os.close(out)

    def copy_range(self, src, out, m):
        """Copy a member's data file to file in the kernel; returns what is
        left to copy the usual way (all of it if the kernel cannot)."""
        done = 0
        try:
            while done < m.size:
                n = os.copy_file_range(src, out, m.size - done, m.offset_data + done)
                if n == 0:
                    raise Refused("member '%s' is truncated" % m.name)
                done += n
        except OSError as e:
            if done or e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                raise
            return m.size
        return 0

    def whiteout(self, parts):
        """OCI whiteouts: .wh.NAME hides NAME of the layers below;
        .wh..wh..opq hides every entry of its directory that this layer
        did not itself add."""
        base, dparts = parts[-1], parts[:-1]
        fd = self.dirfd(dparts, True, "/".join(parts))
        if base == ".wh..wh..opq":
            for child in os.listdir(fd):
                if dparts + (child,) not in self.layer:
                    self.remove(dparts + (child,), fd, child, self.lstat(fd, child))
        elif base.startswith(".wh..wh."):
            return  # aufs bookkeeping (.wh..wh.plnk): nothing to apply
        else:
            name = base[4:]
            if name in ("", ".", ".."):
                raise Refused("member '%s' is a whiteout of nothing" % "/".join(parts))
            self.remove(dparts + (name,), fd, name, self.lstat(fd, name))
            self.dirs.pop(dparts + (name,), None)

    # ---- the end
    def finish(self):
        """Directory modes and times last, deepest first: a read-only
        directory must not stop its own members being written."""
        self.forget(())
        for parts in sorted(self.dirs, key=len, reverse=True):
            mode, mtime, uid, gid = self.dirs[parts]
            try:
                fd = self.dirfd(parts, False, "/".join(parts))
            except (Refused, OSError):
                continue  # removed by a later whiteout
            if uid is not None:
                self.owner(lambda u, g: os.fchown(fd, u, g), _Ids(uid, gid))
            os.fchmod(fd, mode)
            if mtime is not None:
                os.utime(fd, (mtime, mtime))
            self.forget(parts)
        if self.progress:
            sys.stderr.write("\r%s: %s: %d MiB, %d entries, done\n"
                             % (PROG, self.progress, self.bytes >> 20, self.entries))
        self.report()

    def report(self):
        # mmdebstrap's stream (mode stdin) carries /dev nodes that the
        # helper makes itself in every container: not news.
        if self.devices and self.system:
            say("system rootfs: dropped %d device node%s (containers get a /dev of their own)"
                % (self.devices, plural(self.devices)))
        elif self.devices and not self.quiet_devices:
            say("skipped %d device node%s (creating them needs real root)"
                % (self.devices, plural(self.devices)))
        if self.setid:
            say("system rootfs: cleared the set-id bits of %d entr%s"
                % (self.setid, plural(self.setid, "y", "ies")))
        if self.writable:
            say("system rootfs: removed group and other write permission from %d entr%s"
                % (self.writable, plural(self.writable, "y", "ies")))
        if self.owners_root:
            say("system rootfs: gave %d entr%s of other users to root"
                % (self.owners_root, plural(self.owners_root, "y", "ies")))
        if self.caps:
            say("system rootfs: removed the file capabilities of %d file%s"
                % (self.caps, plural(self.caps)))
        if self.owners_lost:
            sys.stderr.write("%s: %d entr%s kept your own ids: their owner is outside your subordinate range\n"
                             % (PROG, self.owners_lost, "y" if self.owners_lost == 1 else "ies"))


def say(line):
    sys.stderr.write("%s: %s\n" % (PROG, line))


def plural(n, one="", many="s"):
    return one if n == 1 else many


class _Ids:
    def __init__(self, uid, gid):
        self.uid, self.gid = uid, gid


class Forward:
    """A pipe or file read front to back, with the tell() and forward
    seek() that tarfile's random-access reader asks for. tarfile's own
    stream mode ("r|") copies every block through a join of small reads:
    several times slower than this."""

    def __init__(self, f):
        self.f, self.pos = f, 0
        # A plain file can really seek, and its members' data can be
        # copied by the kernel (copy_file_range) without passing through
        # python at all: regular() uses self.fd when it is set.
        self.fd = None
        try:
            if f.seekable() and stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                self.fd = f.fileno()
                self.pos = f.tell()
        except (AttributeError, OSError, ValueError):
            pass

    def read(self, n=-1):
        b = self.f.read(n)
        self.pos += len(b)
        return b

    def tell(self):
        return self.pos

    def seek(self, pos, whence=0):
        if self.fd is not None:
            self.pos = self.f.seek(pos, whence)
            return self.pos
        if whence != 0 or pos < self.pos:
            raise OSError(errno.ESPIPE, "cannot seek back in a stream")
        while self.pos < pos:
            if not self.read(min(CHUNK, pos - self.pos)):
                break
        return self.pos


def apply_stream(tree, fileobj):
    """One tar stream, member by member, in archive order."""
    if isinstance(fileobj, io.RawIOBase):
        fileobj = io.BufferedReader(fileobj, CHUNK)
    try:
        with tarfile.open(fileobj=Forward(fileobj), mode="r:") as tar:
            for m in tar:
                tree.add(tar, m)
                # Hard links are resolved in the target, never through
                # tarfile's list: keep it from growing with the archive.
                tar.members.clear()
    except tarfile.TarError as e:
        raise Refused("not a valid tar archive: %s" % e)
    except EOFError:
        raise Refused("the archive is truncated")


# ---- decompression: a separate process, so it runs on another core
MAGIC = [(b"\x1f\x8b", "gzip"), (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"), (b"BZh", "bzip2")]


def sniff(head):
    for magic, tool in MAGIC:
        if head.startswith(magic):
            return tool
    return None


class Feeder(threading.Thread):
    """Copies a python file object into a decompressor's stdin."""

    def __init__(self, src, dst):
        super().__init__(daemon=True)
        self.src, self.dst, self.error = src, dst, None

    def run(self):
        try:
            while True:
                buf = self.src.read(CHUNK)
                if not buf:
                    break
                self.dst.write(buf)
        except BrokenPipeError:
            pass
        except Exception as e:  # reported by the caller
            self.error = e
        finally:
            try:
                self.dst.close()
            except BrokenPipeError:
                pass


def apply_compressed(tree, src, head, what):
    """src: a file object positioned at head (re-read by the tool)."""
    tool = sniff(head)
    if tool is None:
        return apply_stream(tree, src)
    try:
        real = src.fileno()
    except (AttributeError, OSError):
        real = None
    if real is not None:
        os.lseek(real, 0, os.SEEK_SET)  # the buffered peek read ahead
        p = subprocess.Popen([tool, "-dc"], stdin=real, stdout=subprocess.PIPE)
        feeder = None
    else:
        p = subprocess.Popen([tool, "-dc"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        feeder = Feeder(src, p.stdin)
        feeder.start()
    try:
        apply_stream(tree, p.stdout)
        while p.stdout.read(CHUNK):
            pass  # let the tool check its trailer
    finally:
        p.stdout.close()
        rc = p.wait()
    if feeder:
        feeder.join()
    if rc != 0:
        raise Refused("%s: %s -dc failed (exit %d): the data is corrupt" % (what, tool, rc))


# ---- images
class Hashing:
    """Reads through, hashing, so a blob is checked against its digest."""

    def __init__(self, f):
        self.f, self.h = f, hashlib.sha256()

    def read(self, n=-1):
        b = self.f.read(n)
        self.h.update(b)
        return b

    def drain(self):
        while self.read(CHUNK):
            pass
        return "sha256:" + self.h.hexdigest()


class ImageDir:
    """An OCI layout directory, from its fd (open_input): every file in it
    is opened as open_input opens the archive, relative to its directory."""

    def __init__(self, fd, strict):
        self.fd, self.strict = fd, strict

    def open(self, name):
        parts = split_name(name, "image file")
        if not parts:
            raise Refused("the image names its top directory as a file")
        fds = [self.fd]
        try:
            for p in parts[:-1]:
                fds.append(os.open(p, NOFOLLOW_DIR, dir_fd=fds[-1]))
            fd = os.open(parts[-1], OPEN_INPUT | os.O_NOFOLLOW, dir_fd=fds[-1])
            try:
                st = os.fstat(fd)
                check_kind("image file " + "/".join(parts), st, False)
                if self.strict:
                    check_secret("image file " + "/".join(parts), os.fstat(fds[-1]), st)
            except BaseException:
                os.close(fd)
                raise
        finally:
            for d in fds[1:]:
                os.close(d)
        return os.fdopen(fd, "rb")

    def exists(self, name):
        try:
            self.open(name).close()
            return True
        except OSError:
            return False

    def close(self):
        os.close(self.fd)


class ImageTar:
    def __init__(self, fd, path):
        try:
            self.tar = tarfile.open(fileobj=os.fdopen(fd, "rb"), mode="r:*")
        except tarfile.TarError:
            raise Refused("%s is neither an image layout directory nor a tar archive" % path)
        self.members = {}
        for m in self.tar.getmembers():
            self.members["/".join(split_name(m.name, "image file"))] = m

    def open(self, name):
        key = "/".join(split_name(name, "image file"))
        if key not in self.members:
            raise Refused("the image has no %s" % key)
        f = self.tar.extractfile(self.members[key])
        if f is None:
            raise Refused("%s in the image is not a file" % key)
        return f

    def exists(self, name):
        return "/".join(split_name(name, "image file")) in self.members

    def close(self):
        self.tar.close()
        self.tar.fileobj.close()


def load_json(img, name):
    try:
        with img.open(name) as f:
            return json.loads(f.read(16 << 20))
    except (ValueError, UnicodeDecodeError) as e:
        raise Refused("%s is not valid JSON: %s" % (name, e))


DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")
ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "ppc64le": "ppc64le",
        "s390x": "s390x", "riscv64": "riscv64"}.get(os.uname().machine, os.uname().machine)


def blob(digest):
    if not isinstance(digest, str) or not DIGEST.match(digest):
        raise Refused("bad digest %r in the image" % (digest,))
    return "blobs/sha256/" + digest[7:]


def oci_manifest(img, index):
    """Follow index.json (and nested indexes) to one image manifest for
    this machine's architecture: its layers, and its config's name."""
    for _ in range(4):
        ms = index.get("manifests") or []
        if not ms:
            raise Refused("the image index lists no manifest")
        mine = [m for m in ms if (m.get("platform") or {}).get("architecture") in (None, ARCH)]
        if not mine:
            raise Refused("the image has no manifest for %s" % ARCH)
        d = mine[0]
        doc = load_json(img, blob(d.get("digest")))
        if d.get("mediaType") in INDEX_TYPES or doc.get("mediaType") in INDEX_TYPES or "manifests" in doc:
            index = doc
            continue
        cfg = doc.get("config") or {}
        return ([(blob(l.get("digest")), l.get("digest")) for l in doc.get("layers") or []],
                blob(cfg.get("digest")) if cfg.get("digest") else None)
    raise Refused("image indexes nest too deep")


def image_layers(img):
    if img.exists("manifest.json"):
        man = load_json(img, "manifest.json")
        if not isinstance(man, list) or not man or not isinstance(man[0], dict):
            raise Refused("manifest.json lists no image")
        if len(man) > 1:
            sys.stderr.write("%s: the archive holds %d images: using the first (%s)\n"
                             % (PROG, len(man), ",".join(man[0].get("RepoTags") or ["untagged"])))
        layers = []
        for l in man[0].get("Layers") or []:
            if not isinstance(l, str):
                raise Refused("manifest.json names a layer by %r" % (l,))
            # docker >= 25 names layers by blob (checkable); older saves by
            # a layer id that is not the file's digest.
            d = "sha256:" + l[len("blobs/sha256/"):]
            layers.append((l, d if l.startswith("blobs/sha256/") and DIGEST.match(d) else None))
        cfg = man[0].get("Config")
        return layers, cfg if isinstance(cfg, str) else None
    if img.exists("index.json"):
        return oci_manifest(img, load_json(img, "index.json"))
    raise Refused("neither a docker save archive (manifest.json) nor an OCI image layout (index.json)")


def apply_image(tree, path, strict=False):
    fd = open_input(path, True, strict)
    img = ImageDir(fd, strict) if stat.S_ISDIR(os.fstat(fd).st_mode) else ImageTar(fd, path)
    try:
        apply_layers(tree, img)
        make_workdir(tree, write_config(img, tree.image_config, os.environ.get("MD_IMAGE_CONFIG")))
    finally:
        img.close()


def apply_layers(tree, img):
    layers, tree.image_config = image_layers(img)
    if not layers:
        raise Refused("the image has no layers")
    for i, (name, digest) in enumerate(layers, 1):
        tree.layer = set()
        what = "layer %d/%d" % (i, len(layers))
        if tree.progress:
            tree.progress = "import-image: " + what
        with img.open(name) as raw:
            src = Hashing(raw)
            head = raw.peek(8)[:8] if hasattr(raw, "peek") else b""
            if not head:
                head = raw.read(8)
                raw.seek(0)
            apply_compressed(tree, src, head, what)
            got = src.drain()
        if digest and got != digest:
            raise Refused("%s: digest mismatch (%s, expected %s)" % (what, got, digest))
    tree.layer = None


# ---- the image's config: what `mdrun.sh -r NAME` runs by default
#
# Kept beside the rootfs as lines "KEY VALUE", one per word of Entrypoint
# and Cmd and per Env element, so that a POSIX sh script reads it with
# `read` alone (no eval, no JSON): a value with a newline or a NUL cannot
# be written so, and is dropped with one line saying so. Env elements
# whose name mdhelper would refuse are dropped the same way.
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
CONFIG_KEYS = ("Entrypoint", "Cmd", "Env", "WorkingDir", "User")


def config_lines(conf):
    """The config file's lines for the image config dict conf."""
    lines = []
    for key in CONFIG_KEYS:
        v = conf.get(key)
        if v is None or v == "" or v == []:
            continue
        words = v if isinstance(v, list) else [v]
        if not all(isinstance(w, str) for w in words):
            say("image config: %s is not a list of strings: not kept" % key)
            continue
        if any("\n" in w or "\0" in w for w in words):
            say("image config: %s has a newline or NUL in it: not kept" % key)
            continue
        if key == "Env":
            bad = [w for w in words if not ENV_NAME.match(w)]
            for w in bad:
                say("image config: Env %s is not NAME=VALUE: not kept" % w.split("=")[0])
            words = [w for w in words if ENV_NAME.match(w)]
        if key == "WorkingDir" and not words[0].startswith("/"):
            say("image config: WorkingDir %s is not an absolute path: not kept" % words[0])
            continue
        lines += ["%s %s" % (key, w) for w in words]
    return lines


def write_config(img, name, out):
    """Write the config of the image (its name in img: name) to out, a
    new file in the caller's private work directory; nothing when the
    image sets none of CONFIG_KEYS."""
    if not name or not out:
        return []
    doc = load_json(img, name)
    conf = doc.get("config") if isinstance(doc, dict) else None
    lines = config_lines(conf) if isinstance(conf, dict) else []
    if not lines:
        return []
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write("".join(line + "\n" for line in lines))
    return lines


def make_workdir(tree, lines):
    """Docker makes the image's WorkingDir when the image lacks it; so do
    we, as the layers' directories are made (never through a link: one in
    the way leaves it to mdhelper to refuse)."""
    for line in lines:
        if line.startswith("WorkingDir "):
            try:
                tree.dirfd(split_name(line[len("WorkingDir "):].lstrip("/")), True, line)
            except (Refused, OSError):
                pass


def sweep(tree, top):
    """The system rootfs rules (Tree.safe_mode) applied to a tree another
    program built as root (mmdebstrap --mode=root, whose maintainer scripts
    make set-id files, device nodes and a 1777 /tmp, and may set file
    capabilities), counted in the same classes. The tree is still in our
    0700 temporary directory, so nobody else can change it meanwhile; links
    are never followed all the same."""
    for dirpath, dirnames, filenames, dfd in os.fwalk(top, follow_symlinks=False):
        for name in dirnames + filenames:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                os.unlink(name, dir_fd=dfd)
                tree.devices += 1
                continue
            if st.st_uid != 0:
                os.chown(name, 0, -1, dir_fd=dfd, follow_symlinks=False)
                tree.owners_root += 1
            if stat.S_ISLNK(st.st_mode):
                continue
            mode = stat.S_IMODE(st.st_mode)
            new = tree.safe_mode(mode)
            if new != mode:
                os.chmod(name, new, dir_fd=dfd)  # not a link: checked above
            if stat.S_ISREG(st.st_mode):
                try:
                    os.removexattr(os.path.join(dirpath, name), "security.capability",
                                   follow_symlinks=False)
                    tree.caps += 1
                except OSError as e:
                    if e.errno not in (errno.ENODATA, errno.ENOTSUP):
                        raise
    tree.report()


def main(argv):
    mode, src, dest, max_bytes, max_entries, tty, system = argv[1:8]
    # Real root on the host (the extractor of a student with subordinate
    # ids runs as "root" of their user namespace: not this).
    strict = argv[8:9] == ["1"]
    progress = {"tar": "import", "image": "import-image", "stdin": "unpacking",
                "sweep": None}[mode] if tty == "1" else None
    os.umask(0)  # modes come from the archive, exactly
    nl = "\n" if progress else ""  # end a progress line before an error
    try:
        tree = Tree(dest, int(max_bytes), int(max_entries), progress, system == "1")
        tree.quiet_devices = mode == "stdin"
        if mode == "sweep":
            sweep(tree, dest)
            return 0
        if mode == "image":
            apply_image(tree, src, strict)
        elif mode == "stdin":
            if not sys.stdin.buffer.peek(1):
                return 3  # the producer failed before writing: it says why
            apply_stream(tree, sys.stdin.buffer)
        else:
            with os.fdopen(open_input(src, False, strict), "rb") as f:
                apply_compressed(tree, f, f.peek(8)[:8], src)
        tree.finish()
    except BadInput as e:
        sys.stderr.write("%s%s: %s\n" % (nl, PROG, e))
        return 4
    except Refused as e:
        sys.stderr.write("%s%s: %s\n" % (nl, PROG, e))
        return 1
    except (tarfile.TarError, EOFError) as e:
        sys.stderr.write("%s%s: not a valid tar archive: %s\n" % (nl, PROG, e or "truncated"))
        return 1
    except OSError as e:
        sys.stderr.write("%s%s: unpacking failed: %s\n" % (nl, PROG, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
