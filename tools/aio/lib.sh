# Shared by tools/aio/*.sh: where the local cloud keeps its state, and how
# its daemons are started, waited for and stopped. Sourced, not run.

AIO_NS=${KVM_PERF_AIO_NS:-kvmperf}
AIO_STATE=${KVM_PERF_AIO_STATE:-/var/lib/rally-kvm-perf/aio}
AIO_LOGS=$AIO_STATE/logs
AIO_PIDS=$AIO_STATE/pids
AIO_ETC=$AIO_STATE/etc
AIO_BIN=$AIO_STATE/bin
AIO_DONE=$AIO_STATE/done
# The provider network lives only inside the namespace: nothing outside it
# can reach these addresses, and nothing inside routes anywhere else.
AIO_CIDR=10.99.0.0/24
AIO_GW=10.99.0.1
AIO_POOL_START=10.99.0.100
AIO_POOL_END=10.99.0.199
AIO_GW_DEV=kvp-gw        # host end of the provider veth
AIO_PHYS_DEV=kvp-phys    # the linuxbridge agent's physical interface
# the provider network's "switch": a bridge that holds the gateway, with
# the host end of each compute node's provider veth on it
AIO_SWITCH=kvp-sw
# The external network of the floating IPs (a second flat network on its
# own veth, inside the namespace too): neutron's L3 agent routes between it
# and the provider network through a router whose port there is
# AIO_ROUTER_IP; the provider subnet's DHCP gives instances a route to the
# external range through it, so that floating IP traffic returns through
# the router that translated it.
AIO_EXT_NET=public
AIO_EXT_CIDR=10.99.3.0/24
AIO_EXT_GW=10.99.3.1
AIO_EXT_POOL_START=10.99.3.100
AIO_EXT_POOL_END=10.99.3.199
AIO_EXT_GW_DEV=kvp-ext        # host end of the external veth
AIO_EXT_PHYS_DEV=kvp-ext-phys # the agent's interface for physnet external
AIO_ROUTER=kvm-perf-router
AIO_ROUTER_IP=10.99.0.254
AIO_NETSERVER_PORT=12865
# Tenant networks (VXLAN): each compute node's tunnel endpoint. Ours is a
# veth with a jumbo MTU, so that a VXLAN device on it can carry a
# 1500-byte MTU network (neutron: global_physnet_mtu = 1500 + VXLAN's 50);
# tenant subnets (Rally's network context: 10.2.0.0/24 and up) exist only
# behind their routers, inside the namespace.
AIO_TUNNEL_DEV=kvp-tun
AIO_TUNNEL_IP=10.99.4.1
AIO_TUNNEL_MTU=9000
AIO_TUNNEL_PHYS_MTU=1550
# The netserver, host side of every netperf run, lives in a namespace of its
# own behind a veth pair, routed from the gateway: the host baseline (run in
# $AIO_NS) and the instances (tap, bridge, gateway) both leave their own
# network stack to reach it. On the gateway itself the host's runs never
# left its kernel (UDP_STREAM at 68 Gbit/s against guests' tens of Mbit/s).
AIO_NETSERVER_NS=$AIO_NS-netserver
AIO_NETSERVER_LINK=10.99.1.1   # our end of the veth, in $AIO_NS
AIO_NETSERVER=10.99.1.2        # the netserver's end
AIO_NETSERVER_DEV=kvp-ns       # in $AIO_NS
AIO_NETSERVER_PEER=kvp-ns-peer # in $AIO_NETSERVER_NS
AIO_IMAGE_NAME=debian-12-bonnie-netperf
# An optional second compute node on this machine ('cloud.sh node2 up'),
# a host of its own as far as OpenStack can tell: its own network
# namespace, host name (a UTS namespace: libvirt's and nova's hypervisor
# name), mount namespace (its own /run/libvirt, /var/lib/libvirt,
# /var/lib/nova: libvirtd, nova-compute and sshd see only its guests),
# libvirtd, nova-compute, linuxbridge agent, and an sshd on its management
# address (nova's host_ip), through which the kvm_perf contexts reach it as
# they reach a production compute host. Its provider interface is a veth
# to the switch; the control plane's 127.0.0.1 ports reach it through
# relays (a unix socket in its state between two socat processes).
AIO_N2=kvmperf-n2
AIO_N2_NS=$AIO_N2
AIO_N2_STATE=$AIO_STATE/node2
AIO_N2_IP=10.99.2.2          # its management address
AIO_N2_LINK=10.99.2.1        # ours, on the same veth
AIO_N2_MGMT_DEV=kvp-n2       # in $AIO_NS
AIO_N2_MGMT_PEER=kvp-n2-mgmt # in $AIO_N2_NS
AIO_N2_LINK_DEV=kvp-n2-link  # in $AIO_NS, on the switch
AIO_N2_PHYS_DEV=kvp-n2-phys  # in $AIO_N2_NS: its agent's provider interface
# what its services use: keystone, rabbitmq, nova, cinder, placement,
# glance, neutron
AIO_N2_PORTS="5000 5672 8774 8776 8778 9292 9696"
# Cinder's backend. This machine's kernel has no device-mapper (so no LVM),
# no iSCSI, no NBD, no RBD and no NFS client: the one driver whose volumes
# need none of them is the NFS driver, whose volumes are files that qemu
# opens. Its "share" is a directory of the state, AIO_VOLUME_DIR: both
# cinder-volume and nova-compute "mount" it with '-o bind'
# (nfs_mount_options), so the NFS driver's whole path (capacity, image to
# volume, attach, detach) runs unchanged, and a volume is a raw file on the
# compute host's disk (the host baseline of a volume-backed sweep runs in
# AIO_VOLUME_DIR). A share's name must look like host:/path: 'nfs:' is a
# link to the state directory, so that the share is AIO_VOLUME_DIR by
# another name (fio takes ':' in a directory for a list of them).
AIO_VOLUME_DIR=$AIO_STATE/volumes
AIO_VOLUME_SHARE=$AIO_STATE/nfs:/volumes
AIO_VOLUME_TYPE=nfs
AIO_API=127.0.0.1
AIO_REGION=RegionOne

aio_log() { echo "aio: $*" >&2; }
aio_die() { echo "aio: ERROR: $*" >&2; exit 1; }

# run a command inside the cloud's namespace
in_ns() { ip netns exec "$AIO_NS" "$@"; }

ns_exists() { [ -e "/run/netns/$AIO_NS" ]; }

pid_of() { cat "$AIO_PIDS/$1.pid" 2>/dev/null || true; }

alive() {
    local pid
    pid=$(pid_of "$1")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

log_tail() {
    local name=$1 lines=${2:-40}
    echo "----- last $lines lines of $AIO_LOGS/$name.log -----" >&2
    tail -n "$lines" "$AIO_LOGS/$name.log" >&2 2>/dev/null || echo "(no log)" >&2
    echo "-----" >&2
}

# ARGS as a log shows them: a secret's value (NAME=VALUE where a word of
# NAME is PASS, PASSWORD, SECRET, TOKEN or KEY) left out
shown() {
    printf '%s\n' "$@" \
        | sed -E 's/^(([A-Za-z0-9]+_)*(PASS|PASSWORD|SECRET|TOKEN|KEY)(_[A-Za-z0-9]+)*)=.*/\1=.../' \
        | tr '\n' ' '
}

# setup_step NAME CMD...: a one-off setup command (database sync, catalog),
# logged to logs/NAME.log; a failure names the step and shows its log
setup_step() {
    local name=$1
    shift
    echo "=== $(date -Is) $(shown "${@:1:3}")..." >> "$AIO_LOGS/$name.log"
    if ! "$@" >> "$AIO_LOGS/$name.log" 2>&1; then
        aio_log "setup step '$name' failed"
        log_tail "$name" 40
        exit 1
    fi
}

service_failed() {
    local name=$1 why=$2
    aio_log "service '$name' failed to start: $why"
    log_tail "$name" 60
    exit 1
}

# start_daemon NAME [env VAR=...] CMD...: start CMD in the namespace in its
# own session (so that down can stop its whole process group), record its
# PID, and log to logs/NAME.log. Does nothing when NAME already runs.
start_daemon() {
    local name=$1
    shift
    if alive "$name"; then
        return 0
    fi
    echo "=== $(date -Is) start: $(shown "$@")" >> "$AIO_LOGS/$name.log"
    # ip netns exec and setsid both exec: $! is the daemon's own PID
    # (AIO_DAEMON_NS: another namespace, the second compute node's)
    # (8>&-: never the node2 lock, cloud.sh n2_lock, which would then be
    # held for the daemon's life)
    ip netns exec "${AIO_DAEMON_NS:-$AIO_NS}" setsid "$@" >> "$AIO_LOGS/$name.log" \
        2>&1 < /dev/null 8>&- &
    echo $! > "$AIO_PIDS/$name.pid"
    echo "$name" >> "$AIO_PIDS/order"
}

# wait_port NAME PORT [TIMEOUT]: until something listens on 127.0.0.1:PORT
# inside the namespace; fails naming NAME (with its log) if NAME dies first.
wait_port() {
    local name=$1 port=$2 timeout=${3:-120} host=${4:-127.0.0.1} t=0
    until in_ns bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null; do
        alive "$name" || service_failed "$name" "exited (port $port never opened)"
        [ $t -lt $((timeout * 2)) ] || service_failed "$name" "port $port not open after ${timeout}s"
        sleep 0.5
        t=$((t + 1))
    done
}

# wait_for NAME TIMEOUT CMD...: until CMD succeeds; fails naming NAME
wait_for() {
    local name=$1 timeout=$2 t=0
    shift 2
    until "$@" > /dev/null 2>&1; do
        alive "$name" || service_failed "$name" "exited"
        [ $t -lt "$timeout" ] || service_failed "$name" "not ready after ${timeout}s ($*)"
        sleep 1
        t=$((t + 1))
    done
}

# signal_daemon NAME SIG: to its whole process group (it leads one)
signal_daemon() {
    local pid
    pid=$(pid_of "$1")
    [ -n "$pid" ] || return 0
    kill -"$2" -- "-$pid" 2>/dev/null || kill -"$2" "$pid" 2>/dev/null || true
}

# stop_daemons NAME...: TERM each one's process group (in the order given),
# wait for all of them at once, KILL what is left after 20 s
stop_daemons() {
    local name t=0 left
    for name in "$@"; do signal_daemon "$name" TERM; done
    while [ $t -lt 40 ]; do
        left=""
        for name in "$@"; do alive "$name" && left=1; done
        [ -n "$left" ] || break
        sleep 0.5
        t=$((t + 1))
    done
    for name in "$@"; do
        alive "$name" && aio_log "$name did not stop on TERM: killing it"
        signal_daemon "$name" KILL
        rm -f "$AIO_PIDS/$name.pid"
    done
}

stop_daemon() { stop_daemons "$1"; }
