#!/bin/bash
# Build the benchmark guest image: Debian bookworm (debootstrap, minbase),
# cloud kernel, openssh-server, bonnie++, netperf and fio, its own init (no
# cloud-init: guest-init.sh); an MBR disk
# with extlinux, converted to qcow2. Cached: rebuilt only when this recipe
# changes (the cache key is the hash of this file, the guest init and the
# verifier).
#
#   bash tools/aio/build-guest-image.sh [OUTPUT_DIR]   # prints the image path
#
# Needs root (loop devices, mount, chroot) and Debian's debootstrap,
# qemu-utils, extlinux and syslinux-common.
#
# The build runs in a mount namespace of its own: no other process ever holds
# a reference to the image's mount. (Every `ip netns exec` copies the mount
# namespace; a copy taken while the image was mounted kept its ext4 mounted
# after our umount, the journal unreplayed, and SYSLINUX then found no
# extlinux.conf.) Every image, built or cached, passes
# verify-guest-image.sh before it is used; a failed build is never cached.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-${KVM_PERF_CACHE:-/var/cache/rally-kvm-perf}}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
key=$(cat "$here/build-guest-image.sh" "$here/guest-init.sh" \
    "$here/guest-fastinit.sh" "$here/verify-guest-image.sh" | sha256sum | cut -c1-12)
image=$out/debian-12-bonnie-netperf-$key.qcow2
log() { echo "guest-image: $*" >&2; }

# cached: used only if it still verifies (a bad one is removed, then rebuilt)
cached() {
    [ -s "$image" ] || return 1
    if bash "$here/verify-guest-image.sh" "$image"; then
        log "cached: $image"
        echo "$image"
        return 0
    fi
    log "the cached image failed verification: removing it, building anew"
    rm -f "$image"
    return 1
}

[ "$(id -u)" = 0 ] || { log "run as root (loop devices, mount, chroot)"; exit 1; }
if [ -z "${KVM_PERF_IMAGE_PRIVATE_NS:-}" ]; then
    [ -s "$image" ] && cached && exit 0
    KVM_PERF_IMAGE_PRIVATE_NS=1 exec unshare --mount --propagation private \
        bash "$0" "$out"
fi
mkdir -p "$out"
# one build at a time (the cloud's start and the functional tests may both
# ask); whoever waited finds the image built
exec 9> "$out/.build.lock"
flock 9
cached && exit 0
work=$(mktemp -d "$out/build.XXXXXX")
mnt=$work/root
loop=""
cleanup() {
    set +e
    for d in dev/pts dev proc sys; do
        mountpoint -q "$mnt/$d" && umount "$mnt/$d"
    done
    mountpoint -q "$mnt" && umount "$mnt"
    [ -n "$loop" ] && losetup -d "$loop"
    rm -rf "$work"
}
trap cleanup EXIT
trap "exit 143" INT TERM

start=$(date +%s)
raw=$work/disk.raw
truncate -s 2G "$raw"
# one bootable Linux partition from 1 MiB; reached through an offset loop
# device, so no partition device nodes are needed
echo 'start=2048, type=83, bootable' | sfdisk -q "$raw"
loop=$(losetup -f --show -o $((2048 * 512)) "$raw")
mkfs.ext4 -q -L kvmperf-root "$loop"
uuid=$(blkid -s UUID -o value "$loop")
mkdir -p "$mnt"
mount "$loop" "$mnt"

log "debootstrap bookworm (minbase) from $mirror"
debootstrap --variant=minbase bookworm "$mnt" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
# The host's /dev is never bound into the chroot. Package scripts there set
# device nodes' groups by the image's own group IDs: udev's postinst runs
# systemd-tmpfiles (static-nodes-permissions.conf), which, through a bound
# /dev, made this host's /dev/kvm group 103, the image's "kvm" and the
# host's "ssl-cert". libvirt-qemu lost KVM, and libvirt, finding KVM "not
# available now" after probing QEMU with it, threw its capabilities cache
# away and probed QEMU again at every domain definition: 70 s per server
# to ACTIVE, nova-compute blocked throughout (doc/source/local-cloud.rst).
# The chroot gets a /dev of its own: the nodes package scripts use, a
# private devpts; /sys read-only.
mount -t tmpfs -o mode=755,nosuid chroot-dev "$mnt/dev"
for node in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
    IFS=: read -r name major minor <<< "$node"
    mknod -m 666 "$mnt/dev/$name" c "$major" "$minor"
done
mkdir -p "$mnt/dev/pts" "$mnt/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$mnt/dev/pts"
ln -s pts/ptmx "$mnt/dev/ptmx"
mount -t proc proc "$mnt/proc"
mount --bind /sys "$mnt/sys"
mount -o remount,bind,ro "$mnt/sys"
cat >"$mnt/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main non-free
deb $mirror bookworm-updates main non-free
SOURCES
cat >"$mnt/etc/fstab" <<FSTAB
UUID=$uuid / ext4 errors=remount-ro 0 1
FSTAB
echo kvm-perf-guest >"$mnt/etc/hostname"
# debootstrap writes none; the guest init adds the instance's name
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
    >"$mnt/etc/hosts"
log "installing kernel, ssh, bonnie++, netperf, fio, the guest init in the image"
# fdisk (sfdisk): the guest init grows the root partition with it, without
# which the root filesystem never grows to the flavor's disk (it stayed at
# the image's 2 GiB, and bonnie++'s 2 x RAM file said "disk full" on a 4 GB
# flavor)
# dbus: without it systemd-logind does not run, nothing handles the ACPI
# power button, and nova's SOFT reboot (libvirt shutdown) is ignored until
# nova gives up after 120 s and power-cuts the guest (HARD), as it did here
# jq, curl: the guest init reads the metadata (guest-init.sh); no cloud-init

# no package may start a daemon in the chroot: it would hold the mount
printf '#!/bin/sh\nexit 101\n' >"$mnt/usr/sbin/policy-rc.d"
chmod 755 "$mnt/usr/sbin/policy-rc.d"
chroot "$mnt" /bin/sh -c '
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends \
        linux-image-cloud-amd64 systemd-sysv udev openssh-server \
        bonnie++ netperf fio sudo iproute2 dbus \
        ca-certificates fdisk jq curl >/dev/null &&
    apt-get clean' >"$work/chroot.log" 2>&1 || { tail -20 "$work/chroot.log" >&2; exit 1; }
rm -f "$mnt/usr/sbin/policy-rc.d"
# The guest init (guest-init.sh, as CirrOS does it) instead of cloud-init:
# under TCG each of cloud-init's Python stages cost seconds of CPU, about
# 15 s per boot before sshd answered and more after (measured here: sshd
# at 27 s of the guest's uptime, cloud-init done at 32 s). It writes the
# instance's SSH key, host keys and name, from the config drive or else the
# metadata service.
# DHCP on every Ethernet NIC: systemd-networkd, in systemd already (no
# ifupdown, no dhclient: their scripts took 3.4 of a boot's 32 guest CPU
# seconds under TCG, networkd 0.6). UseMTU: a VXLAN tenant network's 1450
# comes by DHCP; the client ID is the MAC, which neutron's dnsmasq knows;
# no hostname from DHCP (the guest init sets the instance's, and hostnamed
# would start for it).
mkdir -p "$mnt/etc/systemd/network"
cat >"$mnt/etc/systemd/network/50-kvm-perf-dhcp.network" <<NET
[Match]
Type=ether
[Network]
DHCP=ipv4
LinkLocalAddressing=no
IPv6AcceptRA=no
[DHCPv4]
ClientIdentifier=mac
UseMTU=yes
UseHostname=no
NET
chroot "$mnt" systemctl enable systemd-networkd.service \
    systemd-networkd-wait-online.service >/dev/null 2>&1
install -m 755 "$here/guest-init.sh" "$mnt/usr/local/sbin/kvm-perf-guest-init"
cat >"$mnt/etc/systemd/system/kvm-perf-guest-init-local.service" <<UNIT
[Unit]
Description=kvm-perf guest init: config drive, root filesystem
DefaultDependencies=no
Wants=network-pre.target
After=systemd-remount-fs.service systemd-udev-trigger.service local-fs.target
Before=network-pre.target systemd-networkd.service ssh.service sysinit.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/kvm-perf-guest-init local
StandardOutput=journal+console
[Install]
WantedBy=sysinit.target
UNIT
cat >"$mnt/etc/systemd/system/kvm-perf-guest-init-net.service" <<UNIT
[Unit]
Description=kvm-perf guest init: the metadata service, where no config drive was
Wants=network-online.target
After=network-online.target kvm-perf-guest-init-local.service
Before=ssh.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/kvm-perf-guest-init net
StandardOutput=journal+console
[Install]
WantedBy=multi-user.target
UNIT
chroot "$mnt" systemctl enable kvm-perf-guest-init-local.service \
    kvm-perf-guest-init-net.service >/dev/null 2>&1
# the login user (the key comes at boot); no password, sudo without one
chroot "$mnt" useradd -m -s /bin/bash "debian"
echo 'debian ALL=(ALL) NOPASSWD:ALL' >"$mnt/etc/sudoers.d/90-debian"
chmod 440 "$mnt/etc/sudoers.d/90-debian"
printf 'PasswordAuthentication no\n' >"$mnt/etc/ssh/sshd_config.d/kvm-perf.conf"
# every instance makes its own host key at its first boot (only ed25519:
# RSA/DSA/ECDSA generation costs seconds under TCG)
rm -f "$mnt"/etc/ssh/ssh_host_*
# no netserver daemon at boot: the benchmark starts what it needs
chroot "$mnt" systemctl disable netperf >/dev/null 2>&1 || true
# nothing scheduled may run beside a benchmark (apt, fstrim, e2scrub), and
# boot only what a benchmark guest uses: a serial console, no virtual ones
chroot "$mnt" systemctl mask apt-daily.timer apt-daily-upgrade.timer \
    dpkg-db-backup.timer fstrim.timer e2scrub_all.timer e2scrub_reap.service \
    getty@.service >/dev/null 2>&1
# no hypervisor inside the benchmark guest: udev would load kvm for the CPU
# flags QEMU shows, seconds of a TCG boot for nothing
printf 'blacklist %s\n' kvm kvm_amd kvm_intel irqbypass \
    >"$mnt/etc/modprobe.d/kvm-perf-no-kvm.conf"
# an initrd of the disk and bus drivers nova attaches, not of every module
# (15 MB unpacked at every boot under TCG); the config drive's CD-ROM among
# them, or the guest init may look before it exists and find no metadata
sed -i 's/^MODULES=.*/MODULES=list/' "$mnt/etc/initramfs-tools/initramfs.conf"
printf '%s\n' virtio_pci virtio_blk virtio_scsi virtio_net sd_mod ahci \
    ata_piix sr_mod cdrom isofs >>"$mnt/etc/initramfs-tools/modules"
# and a first process of our own beside initramfs-tools' /init, which it
# falls back to: the drivers, the root, systemd, no udev (guest-fastinit.sh;
# about a fifth of a boot's CPU under TCG)
install -m 644 "$here/guest-fastinit.sh" "$mnt/etc/initramfs-tools/kvm-perf-init"
cat >"$mnt/etc/initramfs-tools/hooks/kvm-perf-init" <<'HOOK'
#!/bin/sh
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
copy_exec /usr/sbin/blkid /usr/sbin
copy_exec /usr/sbin/modprobe /usr/sbin
install -m 755 /etc/initramfs-tools/kvm-perf-init "$DESTDIR/kvm-perf-init"
HOOK
chmod 755 "$mnt/etc/initramfs-tools/hooks/kvm-perf-init"
chroot "$mnt" update-initramfs -u >"$work/initramfs.log" 2>&1 \
    || { tail -20 "$work/initramfs.log" >&2; exit 1; }

log "boot loader (extlinux)"
kernel=$(cd "$mnt/boot" && ls vmlinuz-* | head -n1)
initrd=$(cd "$mnt/boot" && ls initrd.img-* | head -n1)
mkdir -p "$mnt/boot/extlinux"
extlinux --install "$mnt/boot/extlinux" >/dev/null 2>&1
# net.ifnames=0: the NIC keeps the kernel's name (eth0). With no udev in the
# initrd, udev renamed it (to ens3) only after the guest init had written
# its ifupdown DHCP stanza (before networkd), and the guest never got an
# address. fsck.mode=skip: the
# image has no fsck; systemd-fsck-root only waited on the boot's path.
cat >"$mnt/boot/extlinux/extlinux.conf" <<BOOT
DEFAULT linux
TIMEOUT 1
LABEL linux
  LINUX /boot/$kernel
  INITRD /boot/$initrd
  APPEND rdinit=/kvm-perf-init root=UUID=$uuid ro console=ttyS0 net.ifnames=0 fsck.mode=skip
BOOT
# flush, then unmount: in this private namespace nothing else holds the
# mount, so umount really ends it (journal checkpointed, state clean); a
# busy mount is an error here, never something to convert anyway
# the blocks apt and debootstrap freed (their .debs) back to holes in the
# raw file: qcow2 then holds the 530 MB in use, not the 900 MB ever written
# (less to compress here, to upload, and for nova to copy into _base)
fstrim "$mnt"
sync -f "$mnt"
for d in dev/pts dev proc sys; do umount "$mnt/$d"; done
umount "$mnt"
losetup -d "$loop"
loop=""
dd if=/usr/lib/EXTLINUX/mbr.bin of="$raw" bs=440 count=1 conv=notrunc status=none
sync "$raw"

log "verifying the disk, then converting to qcow2"
bash "$here/verify-guest-image.sh" "$raw" || { log "build discarded"; exit 1; }
qemu-img convert -q -O qcow2 -c "$raw" "$work/image.qcow2"
mv "$work/image.qcow2" "$image"
# images of earlier recipes are never used again
find "$out" -maxdepth 1 -name 'debian-12-bonnie-netperf-*.qcow2' ! -path "$image" -delete
log "built $image in $(( $(date +%s) - start )) s ($(du -h "$image" | cut -f1))"
echo "$image"
