#!/bin/sh
# kvm-perf-guest-init: what cloud-init did for the benchmark guest, in shell,
# as CirrOS does for OpenStack's own gate. Under TCG, cloud-init's two Python
# stages before sshd cost about 15 s of CPU per boot and its status check
# more (doc/source/local-cloud.rst); this costs well under one.
#
#   kvm-perf-guest-init local   before the network (systemd, see below):
#       the metadata from a config drive (label config-2), DHCP on every
#       Ethernet NIC, the root filesystem grown to the disk, and, when the
#       drive was there, the instance's SSH key, host keys and name
#   kvm-perf-guest-init net     after the network, before sshd: where no
#       config drive held the metadata, OpenStack's metadata service
#
# Per instance (a new uuid): new SSH host keys. Per boot: the rest. The host
# keys are printed to the console between cloud-init's own markers, which
# the sweep's console evidence reads (rally_kvm_perf/sweep/console.py); no
# metadata at all ends with "No datasource found" there.
#
# For tests, every path can be moved: KVM_PERF_GUEST_ROOT (a directory
# standing in for /), KVM_PERF_GUEST_SYS (for /sys), KVM_PERF_CONFIG_DRIVE (a
# directory holding the drive's files instead of a device to mount),
# KVM_PERF_METADATA_URL, KVM_PERF_METADATA_WAIT (seconds, default 60), and
# KVM_PERF_GROW=0 leaves the disk alone.
set -u
ROOT=${KVM_PERF_GUEST_ROOT:-}
SYS=${KVM_PERF_GUEST_SYS:-/sys}
URL=${KVM_PERF_METADATA_URL:-http://169.254.169.254/openstack/latest}
WAIT=${KVM_PERF_METADATA_WAIT:-60}
USER_NAME=debian
RUN=$ROOT/run/kvm-perf-guest-init
STATE=$ROOT/var/lib/kvm-perf-guest-init
META=$RUN/meta_data.json

say() { echo "kvm-perf-guest-init: $*"; }

find_drive() {
    { blkid -c /dev/null -t LABEL=config-2 -o device ||
      blkid -c /dev/null -t LABEL=CONFIG-2 -o device; } 2>/dev/null | head -n1
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
    fi
    [ -n "$dev" ] || return 1
    mkdir -p "$RUN/drive"
    mount -o ro "$dev" "$RUN/drive" || return 1
    cp "$RUN/drive/openstack/latest/meta_data.json" "$META"
    rc=$?
    umount "$RUN/drive"
    [ $rc = 0 ] && say "metadata from the config drive $dev"
    return $rc
}

# dhcp_everywhere: ifupdown stanzas for every Ethernet NIC (a device, type 1)
dhcp_everywhere() {
    out=$ROOT/etc/network/interfaces.d/50-kvm-perf-guest-init
    mkdir -p "$(dirname "$out")"
    : > "$out.new"
    for nic in "$SYS"/class/net/*; do
        [ -e "$nic/device" ] && [ "$(cat "$nic/type" 2>/dev/null)" = 1 ] \
            || continue
        name=$(basename "$nic")
        printf 'auto %s\niface %s inet dhcp\n' "$name" "$name" >> "$out.new"
    done
    mv "$out.new" "$out"
}

# grow_root: the root partition and filesystem to the flavor's disk
grow_root() {
    [ "${KVM_PERF_GROW:-1}" = 1 ] || return 0
    part=$(findmnt -n -o SOURCE /) || return 0
    blk=/sys/class/block/$(basename "$part")
    num=$(cat "$blk/partition" 2>/dev/null) || return 0
    disk=/dev/$(basename "$(readlink -f "$blk/..")")
    # growpart exits 1 with NOCHANGE when there is nothing to grow
    if growpart "$disk" "$num" >/dev/null 2>&1; then
        resize2fs "$part" >/dev/null 2>&1 \
            && say "grew $part to the end of $disk"
    fi
}

# host_keys UUID: a new host key for a new instance, the same after a reboot
host_keys() {
    mkdir -p "$STATE" "$ROOT/etc/ssh"
    if [ "$(cat "$STATE/instance-id" 2>/dev/null)" != "$1" ]; then
        rm -f "$ROOT"/etc/ssh/ssh_host_*
        echo "$1" > "$STATE/instance-id"
    fi
    key=$ROOT/etc/ssh/ssh_host_ed25519_key
    [ -s "$key" ] || ssh-keygen -q -t ed25519 -N '' -C "root@$1" -f "$key"
}

# apply: what $META says: host keys (per instance), the SSH key, the name
apply() {
    uuid=$(jq -r '.uuid // empty' "$META") || {
        say "meta_data.json is not JSON"; return 1; }
    host_keys "${uuid:-unknown}" || return 1
    home=$ROOT/home/$USER_NAME
    ids=$(awk -F: -v u="$USER_NAME" '$1 == u {print $3 ":" $4}' \
          "$ROOT/etc/passwd")
    [ -n "$ids" ] || { say "no user $USER_NAME in /etc/passwd"; return 1; }
    mkdir -p "$home/.ssh"
    jq -r '.public_keys // {} | .[]' "$META" > "$home/.ssh/authorized_keys"
    [ -s "$home/.ssh/authorized_keys" ] \
        || say "the metadata has no SSH key: nobody can log in"
    chmod 700 "$home/.ssh"
    chmod 600 "$home/.ssh/authorized_keys"
    chown -R "$ids" "$home/.ssh"
    name=$(jq -r '.hostname // .name // empty' "$META" | cut -d. -f1)
    if [ -n "$name" ]; then
        echo "$name" > "$ROOT/etc/hostname"
        [ -n "$ROOT" ] || hostname "$name"
        touch "$ROOT/etc/hosts"
        sed -i '/^127\.0\.1\.1[[:space:]]/d' "$ROOT/etc/hosts"
        printf '127.0.1.1\t%s\n' "$name" >> "$ROOT/etc/hosts"
    fi
    echo "-----BEGIN SSH HOST KEY KEYS-----"
    cat "$key.pub"
    echo "-----END SSH HOST KEY KEYS-----"
    # the keys on disk now: a benchmark may power-cut the guest (HARD reboot)
    sync
    say "instance $uuid ready for $USER_NAME (${name:-no name})"
    touch "$RUN/done"
}

mkdir -p "$RUN"
case "${1:-}" in
local)
    dhcp_everywhere
    grow_root
    if config_drive; then
        apply || exit 1
    fi
    ;;
net)
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
