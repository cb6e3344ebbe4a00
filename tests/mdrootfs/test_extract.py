"""Unit tests of scripts/mdrootfs/extract.py, mdrootfs.sh's extractor:
what it refuses, what a system rootfs never gets, and image layers.
Run by `make unit` (python3 -m unittest); needs no root and no network.
tests/mdrootfs.bats drives the same code through mdrootfs.sh as a student
and as root."""

import gzip
import hashlib
import importlib.util
import io
import json
import os
import stat
import tarfile
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "..", "scripts", "mdrootfs", "extract.py")
spec = importlib.util.spec_from_file_location("extract", SRC)
extract = importlib.util.module_from_spec(spec)
spec.loader.exec_module(extract)


def member(name, kind=tarfile.REGTYPE, data=b"", mode=0o644, link=""):
    m = tarfile.TarInfo(name)
    m.type, m.mode, m.linkname, m.mtime = kind, mode, link, 1700000000
    if kind == tarfile.REGTYPE:
        m.size = len(data)
    return m, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def tar_bytes(*members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for m, f in members:
            t.addfile(m, f)
    return buf.getvalue()


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.dest = os.path.join(self.tmp.name, "root")
        os.mkdir(self.dest)
        self.old_umask = os.umask(0)
        self.addCleanup(os.umask, self.old_umask)

    def tree(self, max_bytes=1 << 30, max_entries=1000, system=False):
        t = extract.Tree(self.dest, max_bytes, max_entries, None, system)
        t.report = lambda: None  # its lines are the scripts' business
        return t

    def apply(self, data, **kw):
        t = self.tree(**kw)
        extract.apply_stream(t, io.BytesIO(data))
        t.finish()
        return t

    def path(self, *p):
        return os.path.join(self.dest, *p)


class Names(unittest.TestCase):
    def test_absolute_and_dotdot_names_are_refused(self):
        for bad in ("/etc/passwd", "a/../../b", ".."):
            with self.assertRaises(extract.Refused):
                extract.split_name(bad)

    def test_dot_and_empty_components_are_dropped(self):
        self.assertEqual(extract.split_name("./a//b/."), ("a", "b"))

    def test_compression_is_told_by_its_magic(self):
        self.assertEqual(extract.sniff(gzip.compress(b"x")[:8]), "gzip")
        self.assertEqual(extract.sniff(b"\xfd7zXZ\x00\x00\x00"), "xz")
        self.assertIsNone(extract.sniff(b"ustar\x00\x00\x00"))


class Members(Base):
    def test_files_directories_and_links_are_made_as_archived(self):
        self.apply(tar_bytes(member("d", tarfile.DIRTYPE, mode=0o750),
                             member("d/f", data=b"hello", mode=0o640),
                             member("d/l", tarfile.SYMTYPE, link="f"),
                             member("d/h", tarfile.LNKTYPE, link="d/f")))
        with open(self.path("d", "f"), "rb") as f:
            self.assertEqual(f.read(), b"hello")
        self.assertEqual(stat.S_IMODE(os.stat(self.path("d")).st_mode), 0o750)
        self.assertEqual(stat.S_IMODE(os.stat(self.path("d", "f")).st_mode), 0o640)
        self.assertEqual(os.readlink(self.path("d", "l")), "f")
        self.assertEqual(os.stat(self.path("d", "h")).st_ino, os.stat(self.path("d", "f")).st_ino)

    def test_a_member_under_a_symlink_is_refused_and_nothing_is_written_outside(self):
        outside = os.path.join(self.tmp.name, "outside")
        os.mkdir(outside)
        data = tar_bytes(member("esc", tarfile.SYMTYPE, link=outside),
                         member("esc/pwned", data=b"x"))
        with self.assertRaises(extract.Refused):
            self.apply(data)
        self.assertEqual(os.listdir(outside), [])

    def test_a_hard_link_to_a_file_outside_the_archive_is_refused(self):
        with self.assertRaises(extract.Refused):
            self.apply(tar_bytes(member("h", tarfile.LNKTYPE, link="../../etc/passwd")))
        with self.assertRaises(extract.Refused):
            self.apply(tar_bytes(member("h", tarfile.LNKTYPE, link="nothere")))

    def test_a_later_member_replaces_a_symlink_without_following_it(self):
        victim = os.path.join(self.tmp.name, "victim")
        with open(victim, "w") as f:
            f.write("keep")
        self.apply(tar_bytes(member("f", tarfile.SYMTYPE, link=victim),
                             member("f", data=b"new")))
        with open(victim) as f:
            self.assertEqual(f.read(), "keep")
        self.assertFalse(os.path.islink(self.path("f")))

    def test_size_and_entry_caps_stop_a_tar_bomb(self):
        data = tar_bytes(*[member("f%d" % i, data=b"x" * 100) for i in range(5)])
        with self.assertRaisesRegex(extract.Refused, "more than 3 entries"):
            self.apply(data, max_entries=3)
        with self.assertRaisesRegex(extract.Refused, "more than 250 bytes"):
            self.apply(data, max_bytes=250)

    def test_a_truncated_archive_is_refused(self):
        data = tar_bytes(member("f", data=b"y" * 4096))
        with self.assertRaises((extract.Refused, tarfile.TarError, EOFError)):
            self.apply(data[:1024])


class System(Base):
    def test_a_system_rootfs_gets_no_set_id_bit_nor_write_for_others(self):
        t = self.apply(tar_bytes(member("tmp", tarfile.DIRTYPE, mode=0o1777),
                                 member("su", data=b"#!", mode=0o4755),
                                 member("sg", data=b"#!", mode=0o2775),
                                 member("w", data=b"", mode=0o666)), system=True)
        self.assertEqual(stat.S_IMODE(os.stat(self.path("tmp")).st_mode), 0o1755)
        self.assertEqual(stat.S_IMODE(os.stat(self.path("su")).st_mode), 0o755)
        self.assertEqual(stat.S_IMODE(os.stat(self.path("sg")).st_mode), 0o755)
        self.assertEqual(stat.S_IMODE(os.stat(self.path("w")).st_mode), 0o644)
        self.assertEqual(t.setid, 2)
        self.assertEqual(t.writable, 3)

    def test_a_system_rootfs_gets_no_device_node(self):
        m = tarfile.TarInfo("dev/sda")
        m.type, m.mode, m.devmajor, m.devminor = tarfile.BLKTYPE, 0o666, 8, 0
        t = self.apply(tar_bytes((m, None)), system=True)
        self.assertFalse(os.path.lexists(self.path("dev", "sda")))
        self.assertEqual(t.devices, 1)

    def test_a_users_rootfs_keeps_its_modes(self):
        self.apply(tar_bytes(member("w", data=b"", mode=0o666)))
        self.assertEqual(stat.S_IMODE(os.stat(self.path("w")).st_mode), 0o666)


def docker_save(path, layers, config=None, digests=True):
    """A `docker save` archive (docker >= 25: layers as blobs) of the layer
    tars given as bytes."""
    names = []
    with tarfile.open(path, "w") as t:
        def add(name, data):
            m = tarfile.TarInfo(name)
            m.size = len(data)
            t.addfile(m, io.BytesIO(data))
        for data in layers:
            d = hashlib.sha256(data).hexdigest()
            name = "blobs/sha256/" + d if digests else d + "/layer.tar"
            add(name, data)
            names.append(name)
        cfg = json.dumps(config or {"config": {}}).encode()
        cd = hashlib.sha256(cfg).hexdigest()
        add("blobs/sha256/" + cd, cfg)
        add("manifest.json", json.dumps([{"Config": "blobs/sha256/" + cd, "RepoTags": ["t:1"],
                                          "Layers": names}]).encode())


class Images(Base):
    def test_layers_apply_in_order_with_whiteouts(self):
        l1 = tar_bytes(member("a", data=b"1"), member("b", data=b"1"),
                       member("d", tarfile.DIRTYPE, mode=0o755), member("d/x", data=b"1"))
        l2 = tar_bytes(member(".wh.a"), member("b", data=b"2"),
                       member("d", tarfile.DIRTYPE, mode=0o755), member("d/.wh..wh..opq"),
                       member("d/y", data=b"2"))
        img = os.path.join(self.tmp.name, "img.tar")
        docker_save(img, [l1, l2])
        t = self.tree()
        extract.apply_image(t, img)
        t.finish()
        self.assertFalse(os.path.lexists(self.path("a")))
        with open(self.path("b")) as f:
            self.assertEqual(f.read(), "2")
        self.assertEqual(os.listdir(self.path("d")), ["y"])

    def test_a_layer_that_does_not_match_its_digest_is_refused(self):
        img = os.path.join(self.tmp.name, "img.tar")
        docker_save(img, [tar_bytes(member("a", data=b"1"))])
        with tarfile.open(img) as t:
            members = [(m, t.extractfile(m).read()) for m in t.getmembers()]
        with tarfile.open(img, "w") as t:
            for m, data in members:
                if m.name.startswith("blobs/") and data.startswith(b"a\0"):
                    data = tar_bytes(member("a", data=b"2"))
                    m.size = len(data)
                t.addfile(m, io.BytesIO(data))
        with self.assertRaisesRegex(extract.Refused, "digest mismatch"):
            extract.apply_image(self.tree(), img)

    def test_what_is_not_an_image_is_refused(self):
        junk = os.path.join(self.tmp.name, "junk.tar")
        with open(junk, "wb") as f:
            f.write(tar_bytes(member("etc/passwd", data=b"root")))
        with self.assertRaisesRegex(extract.Refused, "neither a docker save archive"):
            extract.apply_image(self.tree(), junk)


class OpenInput(Base):
    """The archive's own path, as root opens it (strict) and as others do."""

    def file(self, name, data=b"x", mode=0o644):
        path = os.path.join(self.tmp.name, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        return path

    def test_a_fifo_is_refused_without_blocking(self):
        fifo = os.path.join(self.tmp.name, "f.tar")
        os.mkfifo(fifo)
        for strict in (True, False):
            with self.assertRaisesRegex(extract.BadInput, "is a fifo, not a regular file"):
                extract.open_input(fifo, False, strict)

    def test_a_device_is_refused(self):
        with self.assertRaisesRegex(extract.BadInput, "is a character device"):
            extract.open_input("/dev/zero", False, False)
        with self.assertRaisesRegex(extract.BadInput, "is a character device"):
            extract.open_input("/dev/zero", False, True)

    def test_root_follows_no_symlink_to_the_archive_nor_in_its_path(self):
        real = self.file("real.tar")
        link = os.path.join(self.tmp.name, "link.tar")
        os.symlink(real, link)
        with self.assertRaisesRegex(extract.BadInput, "is a symbolic link"):
            extract.open_input(link, False, True)
        os.symlink(self.tmp.name, os.path.join(self.tmp.name, "d"))
        with self.assertRaisesRegex(extract.BadInput, r"symbolic link in its path \(.*/d\)"):
            extract.open_input(os.path.join(self.tmp.name, "d", "real.tar"), False, True)
        os.close(extract.open_input(link, False, False))  # others: as before

    def test_a_directory_is_an_archive_only_for_import_image(self):
        with self.assertRaisesRegex(extract.BadInput, "is a directory"):
            extract.open_input(self.tmp.name, False, True)
        os.close(extract.open_input(self.tmp.name, True, True))

    @unittest.skipUnless(os.geteuid() == 0, "needs root: files of other users")
    def test_root_reads_no_secret_of_another_user_in_a_directory_it_does_not_own(self):
        d = os.path.join(self.tmp.name, "student")
        os.mkdir(d, 0o755)
        os.chown(d, 65534, 65534)
        secret = os.path.join(d, "x.tar")
        with open(secret, "wb") as f:
            f.write(b"secret")
        os.chown(secret, 65533, 65533)
        os.chmod(secret, 0o600)
        with self.assertRaisesRegex(extract.BadInput, "belongs to uid 65533 and others may not read it"):
            extract.open_input(secret, False, True)
        os.chmod(secret, 0o644)
        os.close(extract.open_input(secret, False, True))
        os.chown(secret, 65534, 65534)
        os.chmod(secret, 0o600)
        os.close(extract.open_input(secret, False, True))


class ImageConfig(Base):
    def test_each_word_and_env_element_is_a_line(self):
        self.assertEqual(extract.config_lines({"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo hi", ""],
                                               "Env": ["A=1", "B=x y"], "WorkingDir": "/w", "User": "u"}),
                         ["Entrypoint /bin/sh", "Entrypoint -c", "Cmd echo hi", "Cmd ", "Env A=1",
                          "Env B=x y", "WorkingDir /w", "User u"])

    def test_what_a_line_cannot_hold_or_mdhelper_would_refuse_is_dropped(self):
        self.assertEqual(extract.config_lines({"Cmd": ["a\nb"], "Entrypoint": ["x\0"], "Env": ["1A=x", "B", "C=ok"],
                                               "WorkingDir": "rel", "User": None}), ["Env C=ok"])
        self.assertEqual(extract.config_lines({"Cmd": None, "Env": [], "WorkingDir": ""}), [])

    def test_import_image_writes_the_config_of_a_docker_save(self):
        img = os.path.join(self.tmp.name, "img.tar")
        out = os.path.join(self.tmp.name, "config")
        docker_save(img, [tar_bytes(member("a", data=b"1"))], {"config": {"Cmd": ["sh"], "WorkingDir": "/w/d"}})
        t = self.tree()
        os.environ["MD_IMAGE_CONFIG"] = out
        self.addCleanup(os.environ.pop, "MD_IMAGE_CONFIG")
        extract.apply_image(t, img)
        t.finish()
        with open(out) as f:
            self.assertEqual(f.read(), "Cmd sh\nWorkingDir /w/d\n")
        # Made as Docker makes a missing WorkingDir.
        self.assertEqual(stat.S_IMODE(os.stat(self.path("w", "d")).st_mode), 0o755)


class Main(Base):
    def test_main_unpacks_a_gzip_tarball_through_gzip(self):
        src = os.path.join(self.tmp.name, "a.tar.gz")
        with open(src, "wb") as f:
            f.write(gzip.compress(tar_bytes(member("hello", data=b"hi"))))
        rc = extract.main(["extract.py", "tar", src, self.dest, str(1 << 20), "100", "0", "0"])
        self.assertEqual(rc, 0)
        with open(self.path("hello")) as f:
            self.assertEqual(f.read(), "hi")


if __name__ == "__main__":
    unittest.main()
