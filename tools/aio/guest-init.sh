#!/bin/sh
# kvm-perf-guest-init: what cloud-init did for the benchmark guest, in shell,
# as CirrOS does for OpenStack's own gate. Under TCG, cloud-init's two Python
# stages before sshd cost about 15 s of CPU per boot and its status check
# more (doc/source/local-cloud.rst); this costs well under one.
#
#   kvm-perf-guest-init local   before the network (systemd, see below):
#       the metadata from a config drive (label config-2), the root
#       filesystem grown to the disk, and, when the drive was there, the
#       instance's SSH key, host keys and name
#   kvm-perf-guest-init net     after the network, before sshd: the DNS
#       servers DHCP gave into resolv.conf; where no config drive held the
#       metadata, OpenStack's metadata service
#
# DHCP itself is systemd-networkd's, on every Ethernet NIC (the image's
# /etc/systemd/network: build-guest-image.sh).
#
# Per instance (a new uuid): new SSH host keys. Per boot: the rest. The host
# keys are printed to the console between cloud-init's own markers, which
# the sweep's console evidence reads (rally_kvm_perf/sweep/console.py); no
# metadata at all ends with "No datasource found" there.
#
# For tests, every path can be moved: KVM_PERF_GUEST_ROOT (a directory
# standing in for /), KVM_PERF_CONFIG_DRIVE (a
# directory holding the drive's files instead of a device to mount),
# KVM_PERF_METADATA_URL, KVM_PERF_METADATA_WAIT (seconds, default 60), and
# KVM_PERF_GROW=0 leaves the disk alone.
set -u
ROOT=${KVM_PERF_GUEST_ROOT:-}
URL=${KVM_PERF_METADATA_URL:-http://169.254.169.254/openstack/latest}
WAIT=${KVM_PERF_METADATA_WAIT:-60}
USER_NAME=debian
RUN=$ROOT/run/kvm-perf-guest-init
STATE=$ROOT/var/lib/kvm-perf-guest-init
META=$RUN/meta_data.json

say() { echo "kvm-perf-guest-init: $*"; }

# find_drive: the config drive's device (nova: a CD-ROM, or a disk when its
# format is vfat), probed directly: blkid's own search skips CD-ROMs until
# udev has seen them
find_drive() {
    blkid -c /dev/null -o device -t LABEL=config-2 /dev/sr* /dev/vd* \
        /dev/sd* /dev/xvd* 2>/dev/null \
      || blkid -c /dev/null -o device -t LABEL=CONFIG-2 /dev/vd* /dev/sd* \
        2>/dev/null
}

# config_drive: copy meta_data.json from the config drive into $META
config_drive() {
    if [ -n "${KVM_PERF_CONFIG_DRIVE:-}" ]; then
        cp "$KVM_PERF_CONFIG_DRIVE/openstack/latest/meta_data.json" "$META" \
            2>/dev/null
        return
    fi
    # the CD-ROM's driver is in the initrd: the drive is there at once, as a
    # rule; else wait for udev's coldplug (not for a guess), then look again
    dev=$(find_drive)
    if [ -z "$dev" ]; then
        udevadm settle --timeout=10 2>/dev/null
        dev=$(find_drive)
        say "the config drive was found after udev settled: ${dev:-none}"
    fi
    dev=${dev%%
*}
    [ -n "$dev" ] || return 1
    mkdir -p "$RUN/drive"
    mount -o ro "$dev" "$RUN/drive" || return 1
    cp "$RUN/drive/openstack/latest/meta_data.json" "$META"
    rc=$?
    umount "$RUN/drive"
    [ $rc = 0 ] && say "metadata from the config drive $dev"
    return $rc
}

# Under TCG every process costs about 0.25 s of the boot (measured in the
# guest: even `sh -c true`), so what the shell can do itself it does:
# files are read with `read`, names cut with ${...}, jq runs once.

# get VAR FILE: the first line of FILE into VAR (empty when unreadable)
get() { eval "$1=" && { read -r "$1" < "$2"; } 2>/dev/null; :; }

# resolv_conf: the DNS servers of systemd-networkd's DHCP leases into
# /etc/resolv.conf (without systemd-resolved nothing else writes it; the
# image's own came from the machine that built it)
resolv_conf() {
    servers=""
    for lease in "$ROOT"/run/systemd/netif/leases/*; do
        [ -f "$lease" ] || continue
        while IFS== read -r key value; do
            [ "$key" = DNS ] && servers="$servers $value"
        done < "$lease"
    done
    [ -n "$servers" ] || return 0
    lines=""
    for server in $servers; do
        lines="${lines}nameserver $server
"
    done
    printf '%s' "$lines" > "$ROOT/etc/resolv.conf"
}

# grow_root: the root partition and filesystem to the end of the flavor's
# disk. sfdisk and partx directly, and only when there is room: growpart
# (a long shell script) took 6.6 s of a 24-s TCG boot here, and as long on
# every reboot to find nothing to do.
grow_root() {
    [ "${KVM_PERF_GROW:-1}" = 1 ] || return 0
    part=""
    while read -r src mnt _; do
        [ "$mnt" = / ] && part=$src
    done < /proc/self/mounts
    blk=/sys/class/block/${part##*/}
    get num "$blk/partition"
    [ -n "$num" ] || return 0
    disk=$(readlink -f "$blk/..")
    disk=${disk##*/}
    get start "$blk/start"; get size "$blk/size"; get total "/sys/class/block/$disk/size"
    # less than 1 MiB (2048 sectors) free after it: nothing to grow
    [ $(( total - start - size )) -gt 2048 ] || return 0
    echo ",+" | sfdisk -q --no-reread --no-tell-kernel -N "$num" "/dev/$disk" \
        >/dev/null 2>&1 \
        && partx -u -n "$num" "/dev/$disk" \
        && resize2fs "$part" >/dev/null 2>&1 \
        && say "grew $part to the end of /dev/$disk" \
        || say "could not grow $part to the end of /dev/$disk"
}

# host_keys UUID: a new host key for a new instance, the same after a reboot
host_keys() {
    [ -d "$STATE" ] || mkdir -p "$STATE" "$ROOT/etc/ssh"
    get known "$STATE/instance-id"
    if [ "$known" != "$1" ]; then
        rm -f "$ROOT"/etc/ssh/ssh_host_*
        echo "$1" > "$STATE/instance-id"
    fi
    key=$ROOT/etc/ssh/ssh_host_ed25519_key
    [ -s "$key" ] || ssh-keygen -q -t ed25519 -N '' -C "root@$1" -f "$key"
}

# apply: what $META says: host keys (per instance), the SSH key, the name
apply() {
    # one jq: the uuid, the name, then the SSH keys, a line each
    fields=$(jq -r '.uuid // "", (.hostname // .name // "" | split(".")[0]),
                    (.public_keys // {} | .[])' "$META") || {
        say "meta_data.json is not JSON"; return 1; }
    uuid=${fields%%
*}
    rest=${fields#*
}
    name=${rest%%
*}
    keys=""
    case "$rest" in *"
"*) keys=${rest#*
} ;; esac
    host_keys "${uuid:-unknown}" || return 1
    home=$ROOT/home/$USER_NAME
    ids=""
    while IFS=: read -r user _ uid gid _; do
        [ "$user" = "$USER_NAME" ] && ids=$uid:$gid
    done < "$ROOT/etc/passwd"
    [ -n "$ids" ] || { say "no user $USER_NAME in /etc/passwd"; return 1; }
    [ -d "$home/.ssh" ] || mkdir -p "$home/.ssh"
    if [ -n "$keys" ]; then
        printf '%s\n' "$keys" > "$home/.ssh/authorized_keys"
    else
        : > "$home/.ssh/authorized_keys"
        say "the metadata has no SSH key: nobody can log in"
    fi
    chmod 700 "$home/.ssh"
    chmod 600 "$home/.ssh/authorized_keys"
    chown -R "$ids" "$home/.ssh"
    if [ -n "$name" ]; then
        echo "$name" > "$ROOT/etc/hostname"
        [ -n "$ROOT" ] || hostname "$name"
        hosts=""
        if [ -e "$ROOT/etc/hosts" ]; then
            while IFS= read -r line; do
                case "$line" in
                    127.0.1.1[[:space:]]*) ;;
                    *) hosts="$hosts$line
" ;;
                esac
            done < "$ROOT/etc/hosts"
        fi
        printf '%s127.0.1.1\t%s\n' "$hosts" "$name" > "$ROOT/etc/hosts"
    fi
    get pub "$key.pub"
    printf '%s\n%s\n%s\n' "-----BEGIN SSH HOST KEY KEYS-----" "$pub" \
        "-----END SSH HOST KEY KEYS-----"
    # the keys on disk now: a benchmark may power-cut the guest (HARD reboot)
    sync
    say "instance $uuid ready for $USER_NAME (${name:-no name})"
    : > "$RUN/done"
}

[ -d "$RUN" ] || mkdir -p "$RUN"
case "${1:-}" in
local)
    grow_root
    if config_drive; then
        apply || exit 1
    fi
    ;;
net)
    resolv_conf
    [ -e "$RUN/done" ] && exit 0
    deadline=$(( $(date +%s) + WAIT ))
    while ! curl -fsS --max-time 5 -o "$META" "$URL/meta_data.json" \
            2>/dev/null; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            say "No datasource found: no config drive (label config-2) and" \
                "no metadata service at $URL after $WAIT s"
            # sshd still starts (and refuses the login): the console says
            # why, not "sshd failed"
            host_keys unknown
            exit 1
        fi
        sleep 1
    done
    say "metadata from $URL"
    apply || exit 1
    ;;
*)
    echo "usage: $0 local|net" >&2
    exit 2
    ;;
esac
