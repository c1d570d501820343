"""tools/aio/verify-guest-image.sh on small disks made here: a good one
passes, and each way an image can be broken is refused, naming the check.

The disks are real (an MBR, extlinux's boot code, an ext4 made with
mkfs.ext4 -d) with stand-in files for the kernel and the programs; the
"journal not replayed" case is made the way it happened in the field: the
filesystem copied while another mount namespace still held it.
"""

import gzip
import os
import shutil
import subprocess
import uuid

import pytest

from tests import diskimage

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
VERIFY = os.path.join(ROOT, "tools", "aio", "verify-guest-image.sh")
MBR = "/usr/lib/EXTLINUX/mbr.bin"
OFFSET = 2048 * 512

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not os.path.exists(MBR)
    or not shutil.which("sfdisk") or not shutil.which("qemu-img"),
    reason="needs root, sfdisk, qemu-img and extlinux's mbr.bin")

FILES = ("boot/extlinux/ldlinux.sys", "boot/extlinux/ldlinux.c32",
         "boot/vmlinuz-6.1.0-test", "boot/initrd.img-6.1.0-test",
         "usr/sbin/sshd", "usr/sbin/bonnie++",
         "usr/bin/netperf", "usr/bin/netserver", "usr/bin/dbus-daemon",
         "usr/bin/fio", "usr/sbin/sfdisk", "usr/bin/partx",
         "usr/local/sbin/kvm-perf-guest-init", "usr/bin/jq", "usr/bin/curl",
         "etc/systemd/system/kvm-perf-guest-init-local.service",
         "etc/systemd/system/kvm-perf-guest-init-net.service",
         "etc/systemd/network/50-kvm-perf-dhcp.network")
# the guest init's units and DHCP's, enabled as systemctl enable links them
LINKS = ("etc/systemd/system/sysinit.target.wants/"
         "kvm-perf-guest-init-local.service",
         "etc/systemd/system/multi-user.target.wants/"
         "kvm-perf-guest-init-net.service",
         "etc/systemd/system/multi-user.target.wants/"
         "systemd-networkd.service",
         "etc/systemd/system/network-online.target.wants/"
         "systemd-networkd-wait-online.service")


def newc_cpio(names):
    """A gzip'ed newc cpio archive (an initrd) of small files: the format
    the kernel unpacks and initramfs-tools writes."""
    out = b""
    for ino, name in enumerate(list(names) + ["TRAILER!!!"], 1):
        data = b"" if name == "TRAILER!!!" else b"#!/bin/sh\n"
        raw = name.encode() + b"\0"
        fields = [ino, 0o100755, 0, 0, 1, 0, len(data), 0, 0, 0, 0,
                  len(raw), 0]
        head = b"070701" + b"".join(b"%08X" % f for f in fields)
        out += head + raw + b"\0" * (-(len(head) + len(raw)) % 4)
        out += data + b"\0" * (-len(data) % 4)
    return gzip.compress(out)


def make_disk(path, skip=(), conf=True, kernel="/boot/vmlinuz-6.1.0-test",
              root_uuid=None, boot_code=True, rdinit=None,
              initrd_files=("init", "kvm-perf-init")):
    """A 64 MiB disk as build-guest-image.sh lays it out."""
    tree = path.parent / (path.name + ".tree")
    fs_uuid = str(uuid.uuid4())
    for rel in FILES:
        if rel in skip:
            continue
        f = tree / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(newc_cpio(initrd_files) if "initrd" in rel
                      else b"stand-in for %s\n" % rel.encode())
    for rel in LINKS:
        if rel in skip:
            continue
        link = tree / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to("/" + os.path.join("etc/systemd/system",
                                           os.path.basename(rel)))
    if conf:
        (tree / "boot/extlinux").mkdir(parents=True, exist_ok=True)
        (tree / "boot/extlinux/extlinux.conf").write_text(
            "DEFAULT linux\nLABEL linux\n  LINUX %s\n"
            "  INITRD /boot/initrd.img-6.1.0-test\n"
            "  APPEND %sroot=UUID=%s ro console=ttyS0\n"
            % (kernel, "rdinit=%s " % rdinit if rdinit else "",
               root_uuid or fs_uuid))
    subprocess.run(["truncate", "-s", "64M", str(path)], check=True)
    subprocess.run(["sfdisk", "-q", str(path)], check=True, text=True,
                   input="start=2048, type=83, bootable\n")
    subprocess.run(["mkfs.ext4", "-q", "-F", "-U", fs_uuid, "-E",
                    "offset=%d" % OFFSET, "-d", str(tree), str(path), "60M"],
                   check=True)
    if boot_code:
        subprocess.run(["dd", "if=" + MBR, "of=" + str(path), "bs=440",
                        "count=1", "conv=notrunc", "status=none"], check=True)
    return path


def verify(path):
    proc = subprocess.run(["bash", VERIFY, str(path)], capture_output=True,
                          text=True, timeout=300)
    return proc.returncode, proc.stderr


def refused(path, check, *words):
    rc, err = verify(path)
    assert rc == 1, err
    assert "verify FAILED [%s]" % check in err, err
    for word in words:
        assert word in err, (word, err)


def test_a_good_disk_passes_raw_and_as_qcow2(tmp_path):
    disk = make_disk(tmp_path / "good.raw")
    rc, err = verify(disk)
    assert rc == 0, err
    assert "verified" in err and "vmlinuz-6.1.0-test" in err
    qcow = tmp_path / "good.qcow2"
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", "-c", str(disk),
                    str(qcow)], check=True)
    rc, err = verify(qcow)
    assert rc == 0, err


def test_journal_not_replayed_is_refused(tmp_path):
    """The field failure: another mount namespace still holds the
    filesystem when the disk is copied, so its last writes (here: the boot
    loader's configuration) are only in the journal."""
    disk = make_disk(tmp_path / "held.raw", conf=False)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    diskimage.copy_while_held(
        disk, OFFSET, mnt, tmp_path / "copy.raw",
        lambda m: (m / "boot/extlinux/extlinux.conf").write_text(
            "DEFAULT linux\n"))
    refused(tmp_path / "copy.raw", "fs-clean", "needs_recovery",
            "SYSLINUX does not replay journals")


def test_missing_boot_loader_configuration_is_refused(tmp_path):
    refused(make_disk(tmp_path / "d.raw", conf=False), "bootloader",
            "/boot/extlinux/extlinux.conf")


def test_missing_extlinux_itself_is_refused(tmp_path):
    refused(make_disk(tmp_path / "d.raw",
                      skip=("boot/extlinux/ldlinux.sys",)),
            "bootloader", "ldlinux.sys")


def test_kernel_named_but_absent_is_refused(tmp_path):
    refused(make_disk(tmp_path / "d.raw", kernel="/boot/vmlinuz-other"),
            "bootloader", "/boot/vmlinuz-other")


def test_first_process_in_the_initrd_passes(tmp_path):
    rc, err = verify(make_disk(tmp_path / "d.raw", rdinit="/kvm-perf-init"))
    assert rc == 0, err


@pytest.mark.parametrize("files", [("init",), ("init", "kvm-perf-init-old")])
def test_first_process_missing_from_the_initrd_is_refused(tmp_path, files):
    """rdinit= names a file the initrd does not hold (or only a longer
    name starting with it): the kernel would panic at boot."""
    refused(make_disk(tmp_path / "d.raw", rdinit="/kvm-perf-init",
                      initrd_files=files),
            "bootloader", "holds no /kvm-perf-init")


def test_wrong_root_uuid_is_refused(tmp_path):
    refused(make_disk(tmp_path / "d.raw", root_uuid=str(uuid.uuid4())),
            "bootloader", "root=UUID=")


@pytest.mark.parametrize("missing", ["usr/sbin/bonnie++", "usr/bin/netperf",
                                     "usr/sbin/sshd",
                                     "usr/local/sbin/kvm-perf-guest-init",
                                     "usr/bin/jq",
                                     "usr/bin/dbus-daemon", "usr/bin/fio",
                                     "usr/sbin/sfdisk", "usr/bin/partx"])
def test_missing_program_is_refused(tmp_path, missing):
    refused(make_disk(tmp_path / "d.raw", skip=(missing,)), "contents",
            "/" + missing)


def test_guest_init_not_enabled_is_refused(tmp_path):
    """Installed but not linked into sysinit.target: no SSH key at boot."""
    refused(make_disk(tmp_path / "d.raw", skip=(LINKS[0],)), "contents",
            "the guest init is not enabled", LINKS[0].split("/", 3)[-1])


def test_dhcp_not_enabled_is_refused(tmp_path):
    """systemd-networkd installed but not enabled: no address at boot."""
    refused(make_disk(tmp_path / "d.raw", skip=(LINKS[2],)), "contents",
            "DHCP is not enabled", LINKS[2].split("/", 3)[-1])


def test_no_boot_code_is_refused(tmp_path):
    refused(make_disk(tmp_path / "d.raw", boot_code=False), "mbr",
            "no boot code")


def test_filesystem_errors_are_refused(tmp_path):
    disk = make_disk(tmp_path / "d.raw")
    # an inode cleared under its directory entry
    subprocess.run(["debugfs", "-w", "-R", "clri /usr/bin/netperf",
                    "%s?offset=%d" % (disk, OFFSET)], check=True,
                   capture_output=True)
    refused(disk, "fsck", "e2fsck -fn")


def test_not_a_disk_is_refused(tmp_path):
    junk = tmp_path / "junk.img"
    junk.write_bytes(os.urandom(1 << 20))
    refused(junk, "partition")
    rc, err = verify(tmp_path / "absent.qcow2")
    assert rc == 1 and "[format]" in err, err
