#!/bin/sh
# kvm-perf-init: the benchmark guest's first process in its initrd (the
# kernel runs it with rdinit=/kvm-perf-init; build-guest-image.sh puts it
# there beside initramfs-tools' own /init).
#
# Under TCG, initramfs-tools' /init spent about 9 s of a boot, most of it
# starting udev, its coldplug and settle (doc/source/local-cloud.rst), only
# to find a root that is, on nova, one virtio disk whose driver we know. So:
# load the drivers the image lists (initramfs.conf MODULES=list, as /init
# does: /conf/modules), wait up to 2 s for the root device by the UUID or
# LABEL on the kernel's command line (devtmpfs makes the node, no udev),
# mount it read-only and hand over to systemd; udev starts there anyway.
# Anything else (no such disk within 2 s, a mount that fails) goes on to
# initramfs-tools' /init unchanged, with the mounts made here undone.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p /dev /proc /sys /root /run /tmp
mount -t devtmpfs -o nosuid,mode=0755 udev /dev
mount -t proc -o nodev,noexec,nosuid proc /proc
mount -t sysfs -o nodev,noexec,nosuid sysfs /sys
root=
for arg in $(cat /proc/cmdline); do
    case $arg in root=*) root=${arg#root=} ;; esac
done
mods=
while read -r mod; do
    case $mod in ""|"#"*) ;; *) mods="$mods $mod" ;; esac
done < /conf/modules
# one modprobe for all: under TCG each process costs a fraction of a second
# shellcheck disable=SC2086
modprobe -qa $mods
dev=
i=0
while [ $i -lt 40 ]; do
    case $root in
        UUID=*|LABEL=*) dev=$(blkid -l -o device -t "$root" 2>/dev/null) ;;
        /dev/*) [ -b "$root" ] && dev=$root ;;
    esac
    [ -n "$dev" ] && break
    sleep 0.05
    i=$((i + 1))
done
if [ -n "$dev" ] && mount -r -t ext4 "$dev" /root; then
    mount -n -o move /dev /root/dev
    umount /proc /sys
    exec run-init /root /sbin/init "$@" </root/dev/console >/root/dev/console 2>&1
fi
echo "kvm-perf-init: no root ${root:-(none on the command line)} within 2 s: initramfs-tools' /init"
[ -n "$dev" ] && umount /root 2>/dev/null
umount /proc /sys /dev
exec /init "$@"
