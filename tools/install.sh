#!/bin/bash
# Install everything rally-kvm-perf needs on Debian 12 (run as root):
# Debian packages (bonnie++ and fio from main, netperf from non-free, what
# libvirt-python builds against) and a virtualenv at .venv with the package
# and its test tools. Idempotent: a second run only checks.
#   bash tools/install.sh            both
#   bash tools/install.sh packages   the Debian packages only
#   bash tools/install.sh python     the virtualenv only (tools/run.sh:
#                                    beside the local cloud's start, which
#                                    installs the cloud's own packages)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "install: $*" >&2; }
[ "$(id -u)" = 0 ] || { log "run as root (apt-get needs it)"; exit 1; }
phase=${1:-all}
case $phase in
all|packages|python) ;;
*) log "usage: $0 [packages|python]"; exit 2 ;;
esac

# netperf lives in Debian's non-free component: add it to every Debian
# source that lacks it (deb822 .sources and classic .list files alike).
enable_non_free() {
    local changed=0 f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        grep -q '^Components:' "$f" || continue
        if grep -E '^Components:' "$f" | grep -vqE '(^|[[:space:]])non-free([[:space:]]|$)'; then
            sed -i -E '/^Components:/{/[[:space:]]non-free([[:space:]]|$)/!s/$/ non-free/}' "$f"
            changed=1
        fi
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        if grep -qE '^deb .*debian.* main' "$f" && grep -E '^deb .*debian.* main' "$f" | grep -vqE '[[:space:]]non-free([[:space:]]|$)'; then
            sed -i -E '/^deb .*debian.* main/{/[[:space:]]non-free([[:space:]]|$)/!s/$/ non-free/}' "$f"
            changed=1
        fi
    done
    return $changed
}

# openssh-server/-client: the tests start a private sshd on loopback to run
# the remote (SSH) path for real; no sshd service is started by the install.
# chromium: the tests open the kvm-perf HTML report in a headless browser.
# debootstrap ... genisoimage: the functional tests build the guest image and
# boot it under qemu; e2fsprogs checks it (verify-guest-image.sh).
# ansible-core: the functional tests run the Zuul job's playbooks.
# jq, curl: the tests run the guest image's init (tools/aio/guest-init.sh).
DEBS="bonnie++ netperf fio libvirt-dev pkg-config gcc python3-venv python3-dev git
openssh-server openssh-client chromium debootstrap qemu-system-x86 qemu-utils
extlinux syslinux-common genisoimage fdisk e2fsprogs zstd ansible-core jq curl"
if [ "$phase" != python ]; then
missing=$(dpkg-query -W -f='${Package} ${Status}\n' $DEBS 2>/dev/null | awk '$4 != "installed" {print $1}' || true)
installed_count=$(dpkg-query -W -f='${Status}\n' $DEBS 2>/dev/null | grep -c ' installed$' || true)
if [ -n "$missing" ] || [ "$installed_count" -lt "$(echo $DEBS | wc -w)" ]; then
    enable_non_free || log "enabled Debian's non-free component for netperf"
    log "apt-get install $DEBS"
    apt-get update -qq
    # keep package scripts from starting services (sshd) while installing
    policy=/usr/sbin/policy-rc.d
    own_policy=""
    if [ ! -e $policy ]; then
        printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy
        own_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $DEBS >/dev/null \
        || { [ -z "$own_policy" ] || rm -f $policy; exit 1; }
    [ -z "$own_policy" ] || rm -f $policy
fi
command -v bonnie++ >/dev/null && command -v netperf >/dev/null && command -v netserver >/dev/null \
    && command -v fio >/dev/null \
    || { log "bonnie++/netperf/fio not on PATH after apt-get install"; exit 1; }
fi

if [ "$phase" = packages ]; then
    log "ready: the Debian packages"
    exit 0
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    log "creating .venv with $($PY --version 2>&1)"
    $PY -m venv .venv
fi
# Every Python package at the version upper-constraints.txt pins (the set
# CI tested; tools/refresh-constraints.sh moves it): a new release upstream
# changes nothing here until that file is refreshed and tested. The stamp
# covers the constraints, so a refreshed file reinstalls.
stamp=.venv/.kvm-perf-installed
want=$(cat requirements.txt test-requirements.txt upper-constraints.txt setup.cfg \
    | sha256sum | cut -d' ' -f1)
if [ "$(cat $stamp 2>/dev/null)" != "$want" ]; then
    log "pip install (rally-openstack, libvirt-python, ...) within upper-constraints.txt"
    pip=(.venv/bin/pip install -q -c upper-constraints.txt)
    "${pip[@]}" --upgrade pip
    "${pip[@]}" -r requirements.txt -r test-requirements.txt tox
    "${pip[@]}" -e .
    # what is installed is what is pinned, nothing else (pip check: no
    # broken requirement either)
    .venv/bin/python tools/check-constraints.py upper-constraints.txt
    echo "$want" > $stamp
fi
# the plugin's bytecode, written once: it is installed editable (pip
# compiles only what it copies) and with PYTHONDONTWRITEBYTECODE set, as
# on this machine, every rally command and test worker compiled its
# 12,000 lines again (0.8 of the 2.7 CPU seconds a rally command takes to
# load its plugins)
.venv/bin/python -m compileall -q rally_kvm_perf
log "ready: $(.venv/bin/rally-kvm-perf --help >/dev/null && echo rally-kvm-perf OK)"
