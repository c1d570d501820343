#!/bin/bash
# Install the single-node cloud's Debian packages (OpenStack Zed from
# bookworm): MariaDB, RabbitMQ, memcached, keystone, glance, placement, nova
# (libvirt/qemu), neutron (ML2/linuxbridge, DHCP and L3 agents), cinder
# (api, scheduler, volume with the NFS driver: see cloud.sh); socat for the
# optional second compute node's relays and openssh-server for its sshd. The
# packages' own maintainer scripts must start nothing and configure nothing:
# debconf answers "no" to every database/endpoint/rabbit question and
# policy-rc.d refuses service starts; tools/aio/cloud.sh writes the
# configuration and starts the daemons.
# Idempotent: a second run only checks.
set -euo pipefail
log() { echo "aio-install: $*" >&2; }
[ "$(id -u)" = 0 ] || { log "run as root"; exit 1; }

DEBS="mariadb-server python3-pymysql rabbitmq-server memcached python3-memcache
keystone glance-api placement-api nova-api nova-conductor nova-scheduler
nova-compute nova-compute-qemu neutron-server neutron-linuxbridge-agent
neutron-dhcp-agent neutron-l3-agent cinder-api cinder-scheduler cinder-volume
nfs-common socat openssh-server python3-openstackclient uwsgi-plugin-python3 sudo
iputils-ping ebtables iptables bridge-utils dnsmasq-base genisoimage
debootstrap extlinux syslinux-common qemu-utils zstd bonnie++ netperf fio"

missing=$(dpkg-query -W -f='${Package} ${Status}\n' $DEBS 2>/dev/null \
    | awk '$4 != "installed" {print $1}' || true)
count=$(dpkg-query -W -f='${Status}\n' $DEBS 2>/dev/null | grep -c ' installed$' || true)
if [ -z "$missing" ] && [ "$count" -ge "$(echo $DEBS | wc -w)" ]; then
    log "all $count packages installed"
    exit 0
fi

# openstack-pkg-tools asks these per package; "false" leaves databases,
# keystone endpoints and rabbit users to us.
answers=$(mktemp)
for p in keystone glance-api glance-common placement-api placement-common \
         nova-common nova-api neutron-common neutron-server \
         cinder-common cinder-api; do
    for q in configure_db dbconfig-install register-endpoint \
             configure_rabbit configure_ksat create-admin-tenant; do
        echo "$p $p/$q boolean false" >> "$answers"
    done
done
debconf-set-selections < "$answers" 2>/dev/null || true
rm -f "$answers"

policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy
    own_policy=1
fi
drop_policy() { [ -z "$own_policy" ] || rm -f $policy; }
trap drop_policy EXIT

start=$(date +%s)
log "apt-get install (about 410 packages on a fresh machine)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $DEBS >/dev/null
log "installed in $(( $(date +%s) - start )) s"
