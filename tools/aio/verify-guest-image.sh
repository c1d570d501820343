#!/bin/bash
# Check a guest image the way its boot loader will read it, before it is
# cached or uploaded:
#
#   bash tools/aio/verify-guest-image.sh IMAGE   # raw or qcow2
#
# Reads the filesystem as it is on the disk (debugfs, dumpe2fs and e2fsck
# through "?offset=", no mount, no journal replay): what SYSLINUX sees. Exit 0
# and one "ok" line, or exit 1 and "verify FAILED [CHECK]: why", CHECK being
#   format      qemu-img cannot read the image
#   partition   not exactly one bootable Linux partition
#   mbr         no boot code in the master boot record
#   fs-clean    the ext4 journal was not replayed (needs_recovery) or the
#               filesystem is not marked clean: it was copied while mounted
#   fsck        e2fsck -fn finds errors
#   bootloader  extlinux (ldlinux.sys/.c32), extlinux.conf, or the kernel,
#               initrd, rdinit (in the initrd) or root UUID it names,
#               missing or wrong
#   contents    a program the benchmark needs is missing (sshd, bonnie++,
#               netperf, netserver, fio; the guest init, its units, jq and
#               curl; dbus for a soft reboot; sfdisk and partx to grow
#               the root filesystem to the flavor's disk; systemd-networkd
#               enabled with the image's .network, for DHCP)
set -uo pipefail
log() { echo "guest-image: $*" >&2; }
fail() { log "verify FAILED [$1]: $2 (image $image)"; exit 1; }

image=${1:?usage: verify-guest-image.sh IMAGE}
[ -s "$image" ] || { log "verify FAILED [format]: $image is missing or empty"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/verify-image.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

format=$(qemu-img info --output=json "$image" 2>"$tmp/err" \
    | sed -n 's/^ *"format": "\(.*\)",*$/\1/p' | head -n1)
[ -n "$format" ] || fail format "qemu-img cannot read it: $(tail -n1 "$tmp/err")"
raw=$image
if [ "$format" != raw ]; then
    # a sparse copy: seconds, and exactly what the guest's disk will hold
    qemu-img convert -O raw "$image" "$tmp/disk.raw" 2>"$tmp/err" \
        || fail format "qemu-img convert: $(tail -n1 "$tmp/err")"
    raw=$tmp/disk.raw
fi

# -- partition table and MBR --
parts=$(sfdisk -d "$raw" 2>/dev/null | grep -E '^[^:#]+ : start=' || true)
[ "$(printf '%s\n' "$parts" | grep -c 'start=')" = 1 ] \
    || fail partition "expected one partition, found: ${parts:-none}"
grep -q 'type=83' <<<"$parts" || fail partition "not a Linux partition: $parts"
grep -q 'bootable' <<<"$parts" || fail partition "partition not marked bootable: $parts"
start=$(sed -E 's/.*start= *([0-9]+).*/\1/' <<<"$parts")
fs="$raw?offset=$((start * 512))"
if ! head -c 440 "$raw" | od -v -An -tx1 | grep -qv '^[ 0]*$'; then
    fail mbr "the first 440 bytes are zero: no boot code (dd the boot loader's mbr.bin)"
fi
mbr_bin=/usr/lib/EXTLINUX/mbr.bin
if [ -f "$mbr_bin" ] && ! cmp -s -n 440 "$raw" "$mbr_bin"; then
    fail mbr "the boot code is not extlinux's $mbr_bin"
fi

# -- the filesystem as the boot loader reads it --
dumpe2fs -h "$fs" >"$tmp/super" 2>"$tmp/err" \
    || fail fs-clean "no ext4 filesystem at sector $start: $(tail -n1 "$tmp/err")"
features=$(sed -n 's/^Filesystem features: *//p' "$tmp/super")
state=$(sed -n 's/^Filesystem state: *//p' "$tmp/super")
fs_uuid=$(sed -n 's/^Filesystem UUID: *//p' "$tmp/super")
if grep -qw needs_recovery <<<"$features"; then
    fail fs-clean "needs_recovery is set: the journal holds writes the disk does not (the filesystem was still mounted somewhere when it was copied); SYSLINUX does not replay journals"
fi
[ "$state" = clean ] || fail fs-clean "filesystem state is '$state', not clean"
if ! e2fsck -fn "$fs" >"$tmp/fsck" 2>&1; then
    fail fsck "e2fsck -fn: $(grep -v '^Pass\|^e2fsck' "$tmp/fsck" | head -n3 | tr '\n' ' ')"
fi

# size PATH: the size of a regular file in the image, empty when absent
size() {
    debugfs -R "stat \"$1\"" "$fs" 2>/dev/null \
        | awk '/Type: regular/ {r=1} r && /Size: / {for (i=1;i<NF;i++) if ($i=="Size:") {print $(i+1); exit}}'
}
need() {  # need CHECK PATH WHAT
    local n
    n=$(size "$2")
    [ -n "$n" ] && [ "$n" -gt 0 ] || fail "$1" "$3 $2 is missing or empty"
}

for f in /boot/extlinux/ldlinux.sys /boot/extlinux/ldlinux.c32; do
    need bootloader "$f" "extlinux's"
done
need bootloader /boot/extlinux/extlinux.conf "the boot loader configuration"
debugfs -R 'cat /boot/extlinux/extlinux.conf' "$fs" >"$tmp/extlinux.conf" 2>/dev/null
kernel=$(awk 'toupper($1) == "LINUX" || toupper($1) == "KERNEL" {print $2; exit}' "$tmp/extlinux.conf")
initrd=$(awk 'toupper($1) == "INITRD" {print $2; exit}' "$tmp/extlinux.conf")
[ -n "$kernel" ] || fail bootloader "extlinux.conf names no kernel (LINUX line)"
need bootloader "$kernel" "the kernel extlinux.conf names,"
[ -z "$initrd" ] || need bootloader "$initrd" "the initrd extlinux.conf names,"
# a first process named with rdinit= must be in the initrd (a gzip or zstd
# cpio): a
# kernel that cannot run it finds no init and panics
rdinit=$(grep -o 'rdinit=[^ ]*' "$tmp/extlinux.conf" | head -n1 | cut -d= -f2)
if [ -n "$rdinit" ]; then
    [ -n "$initrd" ] || fail bootloader "extlinux.conf names rdinit=$rdinit but no initrd"
    debugfs -R "dump \"$initrd\" $tmp/initrd" "$fs" >/dev/null 2>&1
    # (zstdcat reads gzip too); a newc cpio entry: "00000000" ends its
    # header, then the name and a NUL
    zstdcat "$tmp/initrd" >"$tmp/initrd.cpio" 2>/dev/null || true
    LC_ALL=C grep -aqP "00000000\Q${rdinit#/}\E\\x00" "$tmp/initrd.cpio" \
        || fail bootloader "the initrd $initrd holds no ${rdinit} (extlinux.conf: rdinit=$rdinit)"
fi
root=$(grep -o 'root=UUID=[0-9a-fA-F-]*' "$tmp/extlinux.conf" | head -n1 | cut -d= -f3)
if [ -n "$root" ] && [ "$root" != "$fs_uuid" ]; then
    fail bootloader "extlinux.conf boots root=UUID=$root, the filesystem is $fs_uuid"
fi

for f in /usr/sbin/sshd /usr/sbin/bonnie++ /usr/bin/netperf \
         /usr/bin/netserver /usr/bin/fio; do
    need contents "$f" "the benchmark needs"
done
# the guest init (guest-init.sh) puts the instance's SSH key in; enabled
for f in /usr/local/sbin/kvm-perf-guest-init /usr/bin/jq /usr/bin/curl \
         /etc/systemd/system/kvm-perf-guest-init-local.service \
         /etc/systemd/system/kvm-perf-guest-init-net.service; do
    need contents "$f" "the guest init needs"
done
for f in sysinit.target.wants/kvm-perf-guest-init-local.service \
         multi-user.target.wants/kvm-perf-guest-init-net.service; do
    debugfs -R "stat \"/etc/systemd/system/$f\"" "$fs" 2>/dev/null \
        | grep -q 'Type: symlink' \
        || fail contents "the guest init is not enabled: /etc/systemd/system/$f is missing"
done
# DHCP: systemd-networkd, enabled, with the image's .network for every NIC
need contents /etc/systemd/network/50-kvm-perf-dhcp.network "DHCP needs"
for f in multi-user.target.wants/systemd-networkd.service \
         network-online.target.wants/systemd-networkd-wait-online.service; do
    debugfs -R "stat \"/etc/systemd/system/$f\"" "$fs" 2>/dev/null \
        | grep -q 'Type: symlink' \
        || fail contents "DHCP is not enabled: /etc/systemd/system/$f is missing"
done
# systemd-logind runs on dbus: without it the guest ignores the ACPI power
# button, so nova's soft reboot ends as a power cut after 120 s
need contents /usr/bin/dbus-daemon "a soft reboot (ACPI shutdown) needs"
# the guest init grows the root filesystem to the flavor's disk with sfdisk
# and partx: without them a benchmark's file larger than the image's free
# space fails
need contents /usr/sbin/sfdisk "growing the root filesystem to the flavor's disk needs"
need contents /usr/bin/partx "growing the root filesystem to the flavor's disk needs"

log "verified $image: one bootable partition, extlinux boot code, clean ext4 ($fs_uuid), $(basename "$kernel"), sshd, the guest init, bonnie++, netperf, fio"
