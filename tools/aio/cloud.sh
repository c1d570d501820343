#!/bin/bash
# A single-node OpenStack (Debian bookworm's Zed packages) for rally-kvm-perf,
# entirely inside a network namespace this script creates: every service,
# libvirtd, the guests' bridge and taps, and every client of the guests.
#
#   bash tools/aio/cloud.sh up       install, configure, start (idempotent)
#   bash tools/aio/cloud.sh status   each service: PID, alive, port
#   bash tools/aio/cloud.sh exec CMD run CMD in the namespace with admin OS_*
#   bash tools/aio/cloud.sh cpus dedicated|shared
#                                    CPU 1 as PCPU for hw:cpu_policy=dedicated
#                                    flavors (CPU 0 for the others), or both
#                                    CPUs for every guest (up's default);
#                                    restarts nova-compute, no servers allowed
#   bash tools/aio/cloud.sh node2 up|down
#                                    an optional second compute node on this
#                                    machine (lib.sh), or stop and forget it
#   bash tools/aio/cloud.sh down     stop what up started, remove the namespace
#   bash tools/aio/cloud.sh purge    down, then drop the databases and state
#
# State (configs, PIDs, secrets, one log per service) is in
# $KVM_PERF_AIO_STATE (default /var/lib/rally-kvm-perf/aio).
set -eEuo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# whatever fails unexpectedly is named, with the function it failed in
trap 'echo "aio: ERROR: \"$BASH_COMMAND\" failed (exit $?) in ${FUNCNAME[0]:-cloud.sh}" >&2' ERR
# shellcheck source=tools/aio/lib.sh
. "$here/lib.sh"
# shellcheck source=tools/aio/configure.sh
. "$here/configure.sh"

[ "$(id -u)" = 0 ] || aio_die "run as root (namespaces, daemons, packages)"

load_secrets() {
    mkdir -p "$AIO_STATE" "$AIO_LOGS" "$AIO_PIDS" "$AIO_DONE"
    local f=$AIO_STATE/secrets
    if [ ! -s "$f" ]; then
        (umask 077
         for v in ADMIN SERVICE DB RABBIT; do
             echo "AIO_${v}_PASS=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
         done > "$f")
    fi
    # shellcheck disable=SC1090
    . "$f"
}

step_done() { [ -e "$AIO_DONE/$1" ]; }

mark_done() { touch "$AIO_DONE/$1"; }

# openstack CLI as admin inside the namespace (credentials from the file,
# never on a command line)
os() { in_ns bash -c '. "$0" && exec openstack "$@"' "$AIO_ETC/openrc" "$@"; }
# what up waits for, asked of the APIs by a stdlib script (api.py): the
# openstack CLI costs about 2 s of CPU per call, polled every second
api() { in_ns bash -c '. "$0" && exec python3 "$1" "${@:2}"' "$AIO_ETC/openrc" "$here/api.py" "$@"; }
compute_up() { api compute-up; }
hypervisor_listed() { api hypervisors; }
# nova lists a hypervisor only once its host is mapped into the cell:
# nova-scheduler does that every 2 s (discover_hosts_in_cells_interval in
# configure.sh), so waiting for the listing waits for the mapping too
agent_alive() { api agent-alive "$1"; }

# -- the namespace and its provider network --

# ns_veth NS OURS OUR_IP THEIRS THEIR_IP: namespace NS (made if absent)
# joined to ours by a veth pair, a /24 address on each end
ns_veth() {
    local ns=$1 ours=$2 our_ip=$3 theirs=$4 their_ip=$5
    [ -e "/run/netns/$ns" ] || ip netns add "$ns"
    ip -n "$ns" link set lo up
    if ! ip -n "$AIO_NS" link show "$ours" > /dev/null 2>&1; then
        ip -n "$AIO_NS" link add "$ours" type veth peer name "$theirs" netns "$ns"
        ip -n "$AIO_NS" addr add "$our_ip/24" dev "$ours"
        ip -n "$ns" addr add "$their_ip/24" dev "$theirs"
    fi
    ip -n "$AIO_NS" link set "$ours" up
    ip -n "$ns" link set "$theirs" up
}

# ns_delete NS: namespace NS, if it is there, with whatever is left in it
# killed first
ns_delete() {
    local pid
    [ -e "/run/netns/$1" ] || return 0
    for pid in $(ip netns pids "$1"); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns delete "$1"
}

ns_up() {
    if ! ns_exists; then
        ip netns add "$AIO_NS"
        aio_log "created network namespace $AIO_NS"
    fi
    ip -n "$AIO_NS" link set lo up
    ip -n "$AIO_NS" link show "$AIO_SWITCH" > /dev/null 2>&1 \
        || ip -n "$AIO_NS" link add "$AIO_SWITCH" type bridge
    ip -n "$AIO_NS" addr replace "$AIO_GW/24" dev "$AIO_SWITCH"
    ip -n "$AIO_NS" link set "$AIO_SWITCH" up
    ip -n "$AIO_NS" link show "$AIO_GW_DEV" > /dev/null 2>&1 \
        || ip -n "$AIO_NS" link add "$AIO_GW_DEV" type veth peer name "$AIO_PHYS_DEV"
    ip -n "$AIO_NS" link set "$AIO_GW_DEV" master "$AIO_SWITCH" up
    ip -n "$AIO_NS" link set "$AIO_PHYS_DEV" up
    # the external network of the floating IPs
    if ! ip -n "$AIO_NS" link show "$AIO_EXT_GW_DEV" > /dev/null 2>&1; then
        ip -n "$AIO_NS" link add "$AIO_EXT_GW_DEV" type veth peer name "$AIO_EXT_PHYS_DEV"
        ip -n "$AIO_NS" addr add "$AIO_EXT_GW/24" dev "$AIO_EXT_GW_DEV"
    fi
    ip -n "$AIO_NS" link set "$AIO_EXT_GW_DEV" up
    ip -n "$AIO_NS" link set "$AIO_EXT_PHYS_DEV" up
    # the tunnel endpoint of tenant networks (VXLAN): one end of a veth
    # pair (this kernel has no dummy devices), the other end unused
    ip -n "$AIO_NS" link show "$AIO_TUNNEL_DEV" > /dev/null 2>&1 \
        || ip -n "$AIO_NS" link add "$AIO_TUNNEL_DEV" mtu "$AIO_TUNNEL_MTU" type veth \
            peer name "$AIO_TUNNEL_DEV-peer" mtu "$AIO_TUNNEL_MTU"
    ip -n "$AIO_NS" addr replace "$AIO_TUNNEL_IP/24" dev "$AIO_TUNNEL_DEV"
    ip -n "$AIO_NS" link set "$AIO_TUNNEL_DEV-peer" up
    ip -n "$AIO_NS" link set "$AIO_TUNNEL_DEV" up
    # the netserver's namespace, routed from the gateway
    ns_veth "$AIO_NETSERVER_NS" "$AIO_NETSERVER_DEV" "$AIO_NETSERVER_LINK" \
        "$AIO_NETSERVER_PEER" "$AIO_NETSERVER"
    ip -n "$AIO_NETSERVER_NS" route replace default via "$AIO_NETSERVER_LINK"
    in_ns sysctl -q -w net.ipv4.ip_forward=1
}

# -- infrastructure --

start_mariadb() {
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
    [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql > "$AIO_LOGS/mariadb-install.log" 2>&1
    start_daemon mariadb mariadbd --user=mysql --bind-address=127.0.0.1 \
        --skip-name-resolve --max-connections=500 --innodb-buffer-pool-size=256M
    wait_port mariadb 3306 60
    # ALTER too: after a purge the user may exist with an older password
    local sql="CREATE USER IF NOT EXISTS 'openstack'@'127.0.0.1' IDENTIFIED BY '$AIO_DB_PASS';
        ALTER USER 'openstack'@'127.0.0.1' IDENTIFIED BY '$AIO_DB_PASS';"
    for d in keystone glance placement nova_api nova nova_cell0 neutron cinder; do
        sql="$sql CREATE DATABASE IF NOT EXISTS $d;"
        sql="$sql GRANT ALL PRIVILEGES ON $d.* TO 'openstack'@'127.0.0.1';"
    done
    # the password travels on stdin, never on a command line
    echo "$sql FLUSH PRIVILEGES;" | in_ns mariadb -uroot > /dev/null 2>> "$AIO_LOGS/mariadb.log" \
        || service_failed mariadb "could not create the databases and their user"
}

start_rabbitmq() {
    chown -R rabbitmq:rabbitmq /var/lib/rabbitmq
    # a node name and addresses that exist inside the namespace
    local renv=(HOME=/var/lib/rabbitmq RABBITMQ_NODENAME=rabbit@localhost
                RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 ERL_EPMD_ADDRESS=127.0.0.1)
    start_daemon rabbitmq env "${renv[@]}" \
        setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups \
        /usr/lib/rabbitmq/bin/rabbitmq-server
    wait_port rabbitmq 5672 120
    rabbitctl() { in_ns env "${renv[@]}" \
        setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups \
        /usr/lib/rabbitmq/bin/rabbitmqctl "$@"; }
    # the password on stdin, never on a command line (ps)
    if ! rabbitctl list_users 2>/dev/null | grep -q '^openstack'; then
        rabbitctl add_user openstack <<< "$AIO_RABBIT_PASS" > /dev/null
        rabbitctl set_permissions openstack '.*' '.*' '.*' > /dev/null
    else
        rabbitctl change_password openstack <<< "$AIO_RABBIT_PASS" > /dev/null
    fi
}

# -- keystone and the catalog --

uwsgi_app() {
    local name=$1 port=$2 script=$3
    shift 3
    start_daemon "$name" env "$@" uwsgi --plugins python3 --master --die-on-term \
        --http-socket "127.0.0.1:$port" --wsgi-file "$script" --processes 1 \
        --threads 4 --add-header Connection:close --buffer-size 65535
}

start_keystone() {
    local conf=$AIO_ETC/keystone.conf
    mkdir -p "$AIO_STATE/keystone"
    if ! step_done keystone-db; then
        setup_step keystone-db in_ns keystone-manage --config-file "$conf" db_sync
        setup_step keystone-db in_ns keystone-manage --config-file "$conf" \
            fernet_setup --keystone-user root --keystone-group root
        setup_step keystone-db in_ns keystone-manage --config-file "$conf" \
            credential_setup --keystone-user root --keystone-group root
        mark_done keystone-db
    fi
    uwsgi_app keystone 5000 /usr/bin/keystone-wsgi-public OS_KEYSTONE_CONFIG_FILES="$conf"
    wait_port keystone 5000 60
    if ! step_done keystone-bootstrap; then
        # the admin password in the environment, never on a command line
        # (ps) nor in the step's log
        ( export OS_BOOTSTRAP_PASSWORD="$AIO_ADMIN_PASS"
          setup_step keystone-bootstrap in_ns \
            keystone-manage --config-file "$conf" bootstrap \
            --bootstrap-admin-url "http://$AIO_API:5000/v3/" \
            --bootstrap-internal-url "http://$AIO_API:5000/v3/" \
            --bootstrap-public-url "http://$AIO_API:5000/v3/" \
            --bootstrap-region-id "$AIO_REGION" ) || exit 1
        mark_done keystone-bootstrap
    fi
    wait_for keystone 60 api token
}

catalog() {
    # the done mark holds the list and the code that made it: a service
    # or role added later reaches a cloud made before it
    local specs="glance:image:9292 placement:placement:8778 nova:compute:8774/v2.1
neutron:network:9696 cinder:volumev3:8776/v3/%(project_id)s" mark
    mark="$specs $(sha256sum < "$here/api.py")"
    [ "$(cat "$AIO_DONE/catalog" 2>/dev/null)" = "$mark" ] && return 0
    # shellcheck disable=SC2086
    AIO_SERVICE_PASS=$AIO_SERVICE_PASS api catalog $specs
    echo "$mark" > "$AIO_DONE/catalog"
}

# -- glance, placement, nova, neutron --

start_glance() {
    step_done glance-db || { setup_step glance-db in_ns glance-manage --config-file \
        "$AIO_ETC/glance-api.conf" db_sync && mark_done glance-db; }
    mkdir -p /var/lib/glance/tmp
    start_daemon glance glance-api --config-file "$AIO_ETC/glance-api.conf"
}

start_placement() {
    step_done placement-db || { setup_step placement-db in_ns env \
        OS_PLACEMENT_CONFIG_DIR="$AIO_ETC" placement-manage --config-file \
        "$AIO_ETC/placement.conf" db sync && mark_done placement-db; }
    uwsgi_app placement 8778 /usr/bin/placement-api OS_PLACEMENT_CONFIG_DIR="$AIO_ETC"
}

nova_manage() { in_ns nova-manage --config-file "$AIO_ETC/nova.conf" "$@"; }

start_nova_control() {
    if ! step_done nova-db; then
        setup_step nova-db nova_manage api_db sync
        setup_step nova-db nova_manage cell_v2 map_cell0
        nova_manage cell_v2 list_cells 2>/dev/null | grep -q ' cell1 ' || \
            setup_step nova-db nova_manage cell_v2 create_cell --name=cell1
        setup_step nova-db nova_manage db sync
        mark_done nova-db
    fi
    start_daemon nova-api nova-api --config-file "$AIO_ETC/nova.conf"
    start_daemon nova-conductor nova-conductor --config-file "$AIO_ETC/nova.conf"
    start_daemon nova-scheduler nova-scheduler --config-file "$AIO_ETC/nova.conf"
}

# libvirt-qemu (QEMU's user) can open /dev/kvm: libvirt probes QEMU's
# capabilities with KVM, and keeps them only while that user can use it
kvm_usable() {
    setpriv --reuid=libvirt-qemu --regid="$(id -g libvirt-qemu)" --init-groups \
        sh -c 'exec 3<> /dev/kvm' 2>/dev/null
}

start_libvirt() {
    # libvirt-qemu unable to open /dev/kvm makes libvirt find KVM "not
    # available now" although its probe used it: it then re-probes QEMU on
    # every domain definition and every capabilities call (70 s per boot,
    # nova-compute blocked, zombie probe processes). Join /dev/kvm's group
    # by number: its name differs between machines (an image build that
    # bound /dev into its chroot once made it 103, "ssl-cert" here)
    local gid name
    gid=$(stat -c %g /dev/kvm 2>/dev/null || true)
    if [ -n "$gid" ] && [ "$gid" != 0 ] && ! kvm_usable; then
        name=$(getent group "$gid" | cut -d: -f1)
        if [ -z "$name" ]; then
            name=kvmperf-kvm
            groupadd -g "$gid" "$name"
        fi
        usermod -a -G "$name" libvirt-qemu
        aio_log "libvirt-qemu joined group $name ($gid), the group of /dev/kvm"
        stop_daemon libvirtd
    fi
    mkdir -p /run/libvirt
    start_daemon virtlogd /usr/sbin/virtlogd
    start_daemon libvirtd /usr/sbin/libvirtd
    wait_for libvirtd 60 in_ns virsh -c qemu:///system version
}

start_nova_compute() {
    # in libvirtd's mount namespace: the volumes nova-compute mounts (the
    # NFS driver's) must be seen by the qemu that opens them, and every
    # 'ip netns exec' gives its process a mount namespace of its own
    start_daemon nova-compute nsenter --mount --target "$(pid_of libvirtd)" \
        nova-compute --config-file "$AIO_ETC/nova.conf"
    wait_port nova-api 8774 120
    wait_for nova-compute 180 compute_up
    wait_for nova-compute 180 hypervisor_listed
}

start_neutron() {
    local confs=(--config-file "$AIO_ETC/neutron.conf" --config-file "$AIO_ETC/ml2_conf.ini")
    step_done neutron-db || { setup_step neutron-db in_ns neutron-db-manage \
        "${confs[@]}" upgrade heads && mark_done neutron-db; }
    start_daemon neutron-server neutron-server "${confs[@]}"
    # the agents time out on RPC until the server answers
    wait_port neutron-server 9696 180
    start_daemon neutron-linuxbridge-agent env PATH="$AIO_BIN:$PATH" \
        neutron-linuxbridge-agent --config-file "$AIO_ETC/neutron.conf" \
        --config-file "$AIO_ETC/linuxbridge_agent.ini"
    start_daemon neutron-dhcp-agent env PATH="$AIO_BIN:$PATH" neutron-dhcp-agent \
        --config-file "$AIO_ETC/neutron.conf" --config-file "$AIO_ETC/dhcp_agent.ini"
    start_daemon neutron-l3-agent env PATH="$AIO_BIN:$PATH" neutron-l3-agent \
        --config-file "$AIO_ETC/neutron.conf" --config-file "$AIO_ETC/l3_agent.ini"
    wait_for neutron-linuxbridge-agent 120 agent_alive "Linux bridge agent"
    wait_for neutron-dhcp-agent 120 agent_alive "DHCP agent"
    wait_for neutron-l3-agent 120 agent_alive "L3 agent"
}

# cinder-api, -scheduler and -volume (the NFS driver on a local directory,
# see lib.sh); up waits until the backend reports itself up
start_cinder() {
    local conf=$AIO_ETC/cinder.conf
    step_done cinder-db || { setup_step cinder-db in_ns cinder-manage \
        --config-file "$conf" db sync && mark_done cinder-db; }
    start_daemon cinder-api cinder-api --config-file "$conf"
    start_daemon cinder-scheduler cinder-scheduler --config-file "$conf"
    start_daemon cinder-volume cinder-volume --config-file "$conf"
}

volume_type() {
    wait_port cinder-api 8776 120
    wait_for cinder-volume 120 api volume-up
    os volume type show "$AIO_VOLUME_TYPE" > /dev/null 2>&1 || os volume type create \
        --public --property "volume_backend_name=$AIO_VOLUME_TYPE" "$AIO_VOLUME_TYPE" > /dev/null
}

provider_network() {
    os network show provider > /dev/null 2>&1 || os network create --share \
        --provider-network-type flat --provider-physical-network provider \
        provider > /dev/null
    os subnet show provider-v4 > /dev/null 2>&1 || os subnet create --network provider \
        --subnet-range "$AIO_CIDR" --gateway "$AIO_GW" --dhcp \
        --allocation-pool "start=$AIO_POOL_START,end=$AIO_POOL_END" \
        provider-v4 > /dev/null
    # the route to the floating IPs' range: replies to a floating IP's
    # traffic go back through the router that translated it (set on a new
    # subnet and on one made before the floating IPs existed alike)
    os subnet show provider-v4 -f value -c host_routes | grep -q "$AIO_ROUTER_IP" \
        || os subnet set --host-route "destination=$AIO_EXT_CIDR,gateway=$AIO_ROUTER_IP" \
            provider-v4
}

# floating IPs: an external network and a router from it to the provider
# network (use_floating_ip: true, floating_network: public)
external_network() {
    os network show "$AIO_EXT_NET" > /dev/null 2>&1 || os network create --external \
        --provider-network-type flat --provider-physical-network external \
        "$AIO_EXT_NET" > /dev/null
    os subnet show "$AIO_EXT_NET-v4" > /dev/null 2>&1 || os subnet create \
        --network "$AIO_EXT_NET" --subnet-range "$AIO_EXT_CIDR" --gateway "$AIO_EXT_GW" \
        --no-dhcp --allocation-pool "start=$AIO_EXT_POOL_START,end=$AIO_EXT_POOL_END" \
        "$AIO_EXT_NET-v4" > /dev/null
    os router show "$AIO_ROUTER" > /dev/null 2>&1 || {
        os router create "$AIO_ROUTER" > /dev/null
        os router set --external-gateway "$AIO_EXT_NET" "$AIO_ROUTER"
        os port create --network provider \
            --fixed-ip "subnet=provider-v4,ip-address=$AIO_ROUTER_IP" \
            "$AIO_ROUTER-provider" > /dev/null
        os router add port "$AIO_ROUTER" "$AIO_ROUTER-provider"
    }
}

# the host side of the netperf runs: instances and the host baseline measure
# against the same netserver, in its own namespace behind the gateway (the
# check below reaches it through that route)
start_netserver() {
    start_daemon netserver ip netns exec "$AIO_NETSERVER_NS" netserver -D \
        -L "$AIO_NETSERVER" -p "$AIO_NETSERVER_PORT"
    wait_port netserver "$AIO_NETSERVER_PORT" 30 "$AIO_NETSERVER"
}

# glance holds exactly the image that was built and verified: the same
# file (by its sha256), else it is replaced
upload_image() {
    local path sum current
    path=$(cat "$AIO_STATE/image-path")
    sum=$(sha256sum "$path" | cut -d' ' -f1)
    current=$(os image list --name "$AIO_IMAGE_NAME" -f value -c ID)
    if [ -n "$current" ]; then
        [ "$(os image show "$current" -f value -c properties | grep -o "$sum" || true)" ] \
            && return 0
        aio_log "the guest image was rebuilt: replacing $AIO_IMAGE_NAME"
        os image delete "$current"
    fi
    os image create "$AIO_IMAGE_NAME" --public --disk-format qcow2 \
        --container-format bare --file "$path" \
        --property "kvm_perf_recipe=$(basename "$path" .qcow2)" \
        --property "kvm_perf_sha256=$sum" > /dev/null
}

# in the background, beside the cloud's start; the caller waits on $!
build_image_bg() {
    ( bash "$here/build-guest-image.sh" > "$AIO_STATE/image-path.tmp" \
        2> "$AIO_LOGS/guest-image.log" && mv "$AIO_STATE/image-path.tmp" \
        "$AIO_STATE/image-path" ) > /dev/null 2>&1 &
}

# what build-guest-image.sh and its verifier run (tools/install.sh's
# packages; the cloud's own list has them too)
image_tools_here() {
    local c
    for c in debootstrap extlinux qemu-img sfdisk mkfs.ext4 debugfs zstdcat; do
        command -v "$c" > /dev/null || return 1
    done
    [ -e /usr/lib/EXTLINUX/mbr.bin ]
}

up() {
    local t0 image_pid=""
    t0=$(date +%s)
    mkdir -p "$AIO_STATE" "$AIO_LOGS"
    rm -f "$AIO_STATE/image-path"
    # the guest image needs none of the cloud's packages: where its tools
    # are here, it builds beside their install (on a fresh machine the
    # build took 164 s and the install 143 s, one after the other)
    if image_tools_here; then
        build_image_bg
        image_pid=$!
    fi
    bash "$here/install-packages.sh"
    load_secrets
    write_configs
    if [ -z "$image_pid" ]; then
        build_image_bg
        image_pid=$!
    fi
    ns_up
    start_mariadb
    start_rabbitmq
    start_daemon memcached memcached -u memcache -l 127.0.0.1 -m 64
    wait_port memcached 11211 30
    start_keystone
    catalog
    start_glance
    start_placement
    start_nova_control
    start_libvirt
    wait_port glance 9292 120
    wait_port placement 8778 120
    start_cinder
    start_neutron
    start_nova_compute
    # a second node of an earlier up, not started again, is forgotten
    alive n2-nova-compute || api forget-host "$AIO_N2" >&2 \
        || aio_log "could not forget the second node $AIO_N2 (above)"
    volume_type
    provider_network
    external_network
    start_netserver
    wait "$image_pid" || { log_tail guest-image 40; aio_die "guest image build failed"; }
    upload_image
    aio_log "up in $(( $(date +%s) - t0 )) s; namespace $AIO_NS, logs in $AIO_LOGS"
    aio_log "admin credentials: $AIO_ETC/openrc; Rally spec: $AIO_ETC/rally-env.json"
}

# -- the optional second compute node (lib.sh: AIO_N2*) --

n2_daemon() { AIO_DAEMON_NS=$AIO_N2_NS start_daemon "$@"; }
# run CMD in node 2's namespaces (network, mount, host name)
n2_exec() { nsenter --target "$(pid_of n2-libvirtd)" --net --mount --uts "$@"; }

n2_network() {
    # management: SSH, libvirt, the host baseline's netperf
    ns_veth "$AIO_N2_NS" "$AIO_N2_MGMT_DEV" "$AIO_N2_LINK" "$AIO_N2_MGMT_PEER" "$AIO_N2_IP"
    # its tunnel endpoint (VXLAN) is its management address: a jumbo MTU
    # there too, and a route to ours
    ip -n "$AIO_NS" link set "$AIO_N2_MGMT_DEV" mtu "$AIO_TUNNEL_MTU"
    ip -n "$AIO_N2_NS" link set "$AIO_N2_MGMT_PEER" mtu "$AIO_TUNNEL_MTU"
    ip -n "$AIO_N2_NS" route replace "$AIO_TUNNEL_IP/32" via "$AIO_N2_LINK"
    # the netserver through the first node, as its own host's runs go
    ip -n "$AIO_N2_NS" route replace "${AIO_NETSERVER%.*}.0/24" via "$AIO_N2_LINK"
    # the provider network: a veth to the switch
    if ! ip -n "$AIO_NS" link show "$AIO_N2_LINK_DEV" > /dev/null 2>&1; then
        ip -n "$AIO_NS" link add "$AIO_N2_LINK_DEV" type veth peer \
            name "$AIO_N2_PHYS_DEV" netns "$AIO_N2_NS"
    fi
    ip -n "$AIO_NS" link set "$AIO_N2_LINK_DEV" master "$AIO_SWITCH" up
    ip -n "$AIO_N2_NS" link set "$AIO_N2_PHYS_DEV" up
}

# 127.0.0.1:PORT in node 2 -> unix socket -> 127.0.0.1:PORT here
n2_relays() {
    local port sock=$AIO_N2_STATE/sock
    mkdir -p "$sock" && chmod 700 "$sock"
    for port in $AIO_N2_PORTS; do
        start_daemon "n2-relay-$port" socat \
            "UNIX-LISTEN:$sock/$port,fork,unlink-early,mode=600" "TCP:127.0.0.1:$port"
        n2_daemon "n2-port-$port" socat \
            "TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr" "UNIX-CONNECT:$sock/$port"
    done
}

n2_configs() {
    local d=$AIO_N2_STATE
    mkdir -p "$d/run-libvirt" "$d/log-libvirt/qemu" "$d/cache-libvirt" \
        "$d/nova/instances" "$d/nova/tmp" "$d/nova/mnt" "$d/neutron/tmp" "$d/etc"
    # /var/lib/libvirt's layout (owners and modes), none of its contents
    (cd /var/lib/libvirt && find . -maxdepth 1 -mindepth 1 -type d) | while read -r sub; do
        [ -d "$d/lib-libvirt/$sub" ] || install -d -o "$(stat -c %u "/var/lib/libvirt/$sub")" \
            -g "$(stat -c %g "/var/lib/libvirt/$sub")" -m "$(stat -c %a "/var/lib/libvirt/$sub")" \
            "$d/lib-libvirt/$sub"
    done
    umask 077
    printf '[DEFAULT]\nhost = %s\nmy_ip = %s\n' "$AIO_N2" "$AIO_N2_IP" > "$AIO_ETC/nova-n2.conf"
    printf '[DEFAULT]\nhost = %s\nstate_path = %s\n[oslo_concurrency]\nlock_path = %s\n' \
        "$AIO_N2" "$d/neutron" "$d/neutron/tmp" > "$AIO_ETC/neutron-n2.conf"
    printf '[linux_bridge]\nphysical_interface_mappings = provider:%s\n[vxlan]\nlocal_ip = %s\n' \
        "$AIO_N2_PHYS_DEV" "$AIO_N2_IP" > "$AIO_ETC/linuxbridge-n2.ini"
    # its sshd: root by key only, the key and the known-hosts line kept
    # here for the tests' kvm_perf_hypervisors (hosts: ...)
    [ -s "$d/etc/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' \
        -f "$d/etc/ssh_host_ed25519_key"
    [ -s "$d/etc/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "rally-kvm-perf" \
        -f "$d/etc/id_ed25519"
    cp "$d/etc/id_ed25519.pub" "$d/etc/authorized_keys"
    # its name resolves there (sudo, libvirt ask)
    { cat /etc/hosts; echo "$AIO_N2_IP $AIO_N2"; } > "$d/etc/hosts"
    chmod 644 "$d/etc/hosts"
    echo "$AIO_N2_IP $(cut -d' ' -f1,2 "$d/etc/ssh_host_ed25519_key.pub")" > "$d/etc/known_hosts"
    cat > "$d/etc/sshd_config" <<EOF
ListenAddress $AIO_N2_IP
HostKey $d/etc/ssh_host_ed25519_key
AuthorizedKeysFile $d/etc/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PidFile none
Subsystem sftp internal-sftp
EOF
    umask 022
}

# one node2 up or down at a time: CI starts the node in the background
# while the pinned case runs, and the two-node tests' own `node2 up` then
# waits here and finds it up
n2_lock() {
    mkdir -p "$AIO_STATE"
    exec 8> "$AIO_STATE/node2.lock"
    flock 8
}

n2_is_up() {
    alive n2-nova-compute && alive n2-linuxbridge-agent && alive n2-sshd \
        && api hypervisor-up "$AIO_N2" > /dev/null 2>&1 \
        && api agent-alive-on "Linux bridge agent" "$AIO_N2" > /dev/null 2>&1
}

n2_up() {
    local d=$AIO_N2_STATE t0
    t0=$(date +%s)
    ns_exists && alive nova-compute || aio_die "the cloud is not up: run '$0 up' first"
    n2_lock
    load_secrets
    if n2_is_up; then
        aio_log "node2: $AIO_N2 already up"
        return 0
    fi
    n2_configs
    n2_network
    n2_relays
    # libvirtd in mount and UTS namespaces of its own: the node's own
    # directories over the first node's, and its own host name
    n2_daemon n2-libvirtd unshare --mount --uts --propagation private bash -c '
        set -e; hostname "$1"; d=$2
        mount --bind "$d/run-libvirt" /run/libvirt
        mount --bind "$d/lib-libvirt" /var/lib/libvirt
        mount --bind "$d/log-libvirt" /var/log/libvirt
        mount --bind "$d/cache-libvirt" /var/cache/libvirt
        mount --bind "$d/nova" /var/lib/nova
        mount --bind "$d/etc/hosts" /etc/hosts
        exec /usr/sbin/libvirtd --pid-file /run/libvirt/libvirtd.pid' \
        n2-libvirtd "$AIO_N2" "$d"
    wait_for n2-libvirtd 60 n2_exec virsh -c qemu:///system version
    # the node's other daemons see its directories and host name too
    local mounts=(nsenter --mount --uts --target "$(pid_of n2-libvirtd)")
    n2_daemon n2-virtlogd "${mounts[@]}" \
        /usr/sbin/virtlogd --pid-file /run/libvirt/virtlogd.pid
    mkdir -p /run/sshd
    n2_daemon n2-sshd "${mounts[@]}" /usr/sbin/sshd -D -e -f "$d/etc/sshd_config"
    n2_daemon n2-nova-compute "${mounts[@]}" \
        nova-compute --config-file "$AIO_ETC/nova.conf" --config-file "$AIO_ETC/nova-n2.conf"
    n2_daemon n2-linuxbridge-agent env PATH="$AIO_BIN:$PATH" neutron-linuxbridge-agent \
        --config-file "$AIO_ETC/neutron.conf" --config-file "$AIO_ETC/neutron-n2.conf" \
        --config-file "$AIO_ETC/linuxbridge_agent.ini" \
        --config-file "$AIO_ETC/linuxbridge-n2.ini"
    # nova lists a compute node once its host is mapped to the cell
    wait_for n2-nova-compute 180 api hypervisor-up "$AIO_N2"
    wait_for n2-linuxbridge-agent 120 api agent-alive-on "Linux bridge agent" "$AIO_N2"
    wait_port n2-sshd 22 30 "$AIO_N2_IP"
    aio_log "node2: $AIO_N2 up in $(( $(date +%s) - t0 )) s (management $AIO_N2_IP; SSH key $d/etc/id_ed25519, known hosts $d/etc/known_hosts)"
}

n2_down() {
    local names
    n2_lock
    names=$(awk '/^n2-/ && !seen[$0]++' "$AIO_PIDS/order" 2>/dev/null | tac)
    # shellcheck disable=SC2086
    [ -z "$names" ] || stop_daemons $names
    [ -f "$AIO_PIDS/order" ] && sed -i '/^n2-/d' "$AIO_PIDS/order"
    ns_delete "$AIO_N2_NS"
    ! ns_exists || ip -n "$AIO_NS" link delete "$AIO_N2_MGMT_DEV" 2>/dev/null || true
    ! ns_exists || ip -n "$AIO_NS" link delete "$AIO_N2_LINK_DEV" 2>/dev/null || true
    # nova and neutron forget it: a host that is down would stay listed,
    # and every kvm_perf context would try to reach it
    if ns_exists && alive nova-api; then
        load_secrets
        api forget-host "$AIO_N2" >&2
    fi
    aio_log "node2: $AIO_N2 stopped and forgotten"
}

# placement's PCPU and VCPU totals of this node (the first: the second may
# be up meanwhile, CI starts it beside the pinned case), e.g. "PCPU=1 VCPU=1"
cpu_inventory() { api cpu-inventory "$(hostname)"; }

inventory_is() { [ "$(cpu_inventory)" = "$1" ]; }

cpus() {
    local mode=${1:-} dedicated shared want servers
    case $mode in
    shared) dedicated=""; shared=0-1; want="VCPU=2" ;;
    dedicated) dedicated=1; shared=0; want="PCPU=1 VCPU=1" ;;
    *) aio_die "usage: $0 cpus dedicated|shared" ;;
    esac
    ns_exists && alive nova-compute || aio_die "the cloud is not up: run '$0 up'"
    load_secrets
    servers=$(os server list --all-projects -f value -c ID | wc -l)
    # nova refuses to start when a running guest's CPUs leave its sets
    [ "$servers" = 0 ] || aio_die "cpus $mode: $servers server(s) exist; delete them first"
    if inventory_is "$want"; then
        aio_log "cpus: already $mode ($want)"
        return 0
    fi
    sed -i -e '/^cpu_dedicated_set *=/d' -e '/^cpu_shared_set *=/d' \
        -e "/^\[compute\]/a cpu_shared_set = $shared" "$AIO_ETC/nova.conf"
    [ -z "$dedicated" ] || sed -i "/^\[compute\]/a cpu_dedicated_set = $dedicated" \
        "$AIO_ETC/nova.conf"
    stop_daemon nova-compute
    start_nova_compute
    wait_for nova-compute 120 inventory_is "$want"
    aio_log "cpus: $mode ($want)"
}

# blocked NAME: the "Too many heartbeats missed" lines of NAME's log from
# the last 10 minutes of its current run. oslo.messaging logs it when the
# whole process stood still (a call that blocks eventlet's one thread:
# nova-compute did for 129 s while libvirt re-probed QEMU)
blocked() {
    local since
    since=$(date -d '-10 min' '+%F %T')
    awk -v since="$since" '/^=== .* start: / { n = 0 }
        /Too many heartbeats missed/ && ($1 " " substr($2, 1, 8)) >= since {
            last[n++] = $1 " " substr($2, 1, 8) }
        END { if (n) print n " time(s), the last at " last[n - 1] }' \
        "$AIO_LOGS/$1.log" 2>/dev/null
}

# each daemon alive, none blocked, and (once the APIs answer) every service
# and agent reporting: exit 1 naming what is sick, so that a functional
# case fails at once instead of waiting on it
status() {
    local rc=0 name pid stuck
    [ -f "$AIO_PIDS/order" ] || { echo "not started"; return 3; }
    ns_exists && echo "namespace $AIO_NS: present" || { echo "namespace $AIO_NS: absent"; rc=3; }
    for name in $(awk '!seen[$0]++' "$AIO_PIDS/order"); do
        pid=$(pid_of "$name")
        if alive "$name"; then
            stuck=$(blocked "$name")
            if [ -n "$stuck" ]; then
                printf '%-28s pid %-8s BLOCKED: missed its RabbitMQ heartbeats %s (log: %s)\n' \
                    "$name" "$pid" "$stuck" "$AIO_LOGS/$name.log"
                rc=1
            else
                printf '%-28s pid %-8s running\n' "$name" "$pid"
            fi
        elif [ -n "$pid" ]; then
            printf '%-28s pid %-8s DEAD (log: %s)\n' "$name" "$pid" "$AIO_LOGS/$name.log"
            rc=1
        fi
    done
    if alive libvirtd && [ -e /dev/kvm ] && ! kvm_usable; then
        echo "SICK: libvirt-qemu cannot open /dev/kvm ($(stat -c '%U:%G %a' /dev/kvm)):" \
            "libvirt throws its QEMU capabilities away and probes QEMU again" \
            "at every boot (minutes per server; doc/source/local-cloud.rst)"
        rc=1
    fi
    if [ $rc = 0 ] && alive keystone; then
        load_secrets
        api health | sed 's/^/SICK: /' || rc=1
    fi
    return $rc
}

down() {
    local pid f
    if [ -f "$AIO_PIDS/order" ]; then
        # reverse start order: clients before the services they use
        # shellcheck disable=SC2046
        stop_daemons $(tac "$AIO_PIDS/order" | awk '!seen[$0]++')
        rm -f "$AIO_PIDS/order"
    fi
    # dnsmasq runs in neutron's own qdhcp namespaces; it wrote its pid file
    for f in /var/lib/neutron/dhcp/*/pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        if grep -q dnsmasq "/proc/$pid/cmdline" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
        fi
        rm -f "$f"
    done
    if ns_exists; then
        # whatever is left in our namespace was started by us (guests' qemu)
        for pid in $(ip netns pids "$AIO_NS"); do kill -TERM "$pid" 2>/dev/null || true; done
        sleep 1
    fi
    ns_delete "$AIO_NS"
    ns_delete "$AIO_N2_NS"
    ns_delete "$AIO_NETSERVER_NS"
    # neutron's qdhcp and qrouter namespaces were mounted in the agents'
    # own mount namespaces; what remains here is an empty file
    for f in /run/netns/qdhcp-* /run/netns/qrouter-*; do
        [ -e "$f" ] || continue
        mountpoint -q "$f" && ip netns delete "$(basename "$f")" || rm -f "$f"
    done
    aio_log "down: every process started by up is stopped, namespaces $AIO_NS and $AIO_NETSERVER_NS removed"
}

purge() {
    down
    # (no mariadb installed, as before a fresh machine's first up: no
    # databases of ours either)
    if [ -d /var/lib/mysql ] && command -v mariadb > /dev/null; then
        load_secrets
        ns_up
        start_mariadb > /dev/null
        echo "DROP DATABASE IF EXISTS keystone; DROP DATABASE IF EXISTS glance;
              DROP DATABASE IF EXISTS placement; DROP DATABASE IF EXISTS nova_api;
              DROP DATABASE IF EXISTS nova; DROP DATABASE IF EXISTS nova_cell0;
              DROP DATABASE IF EXISTS neutron; DROP DATABASE IF EXISTS cinder;
              DROP USER IF EXISTS 'openstack'@'127.0.0.1';" | in_ns mariadb -uroot
        down
    fi
    rm -rf "$AIO_STATE" /var/lib/glance/images/* /var/lib/nova/instances/*
    # libvirt's definitions of the guests (both nodes': /etc is shared):
    # a purged nova counts its instances from 1 again, and a definition
    # left by a run that was killed before its servers were deleted made
    # the next boot fail ("domain 'instance-00000015' already exists")
    rm -f /etc/libvirt/qemu/instance-*.xml /etc/libvirt/qemu/autostart/instance-*.xml
    # nova's and cinder's mount points of the volumes' share: empty once
    # down has ended the namespaces that had them mounted (rmdir: never
    # through a mount into the volumes)
    find /var/lib/nova/mnt /var/lib/cinder/mnt -mindepth 1 -maxdepth 1 -type d \
        -exec rmdir {} + 2>/dev/null || true
    aio_log "purged"
}

case "${1:-}" in
up) up ;;
node2)
    case "${2:-}" in
    up) n2_up ;;
    down) n2_down ;;
    *) aio_die "usage: $0 node2 up|down" ;;
    esac
    ;;
cpus) cpus "${2:-}" ;;
down) down ;;
purge) purge ;;
status)
    rc=0
    status || rc=$?
    exit $rc
    ;;
exec)
    shift
    [ $# -gt 0 ] || aio_die "usage: $0 exec CMD [ARGS...]"
    ns_exists || aio_die "the cloud is not up (namespace $AIO_NS absent): run '$0 up'"
    # shellcheck disable=SC1090,SC1091
    . "$AIO_ETC/openrc"
    exec ip netns exec "$AIO_NS" "$@"
    ;;
*)
    # the header comment, whatever its length
    awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0" \
        | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
