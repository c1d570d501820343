# Writes the local cloud's configuration files into $AIO_ETC (the packages'
# files in /etc stay untouched; every daemon gets --config-file). Sourced by
# cloud.sh after lib.sh; needs the secrets in the environment.

write_configs() {
    local db="mysql+pymysql://openstack:$AIO_DB_PASS@127.0.0.1"
    local rabbit="rabbit://openstack:$AIO_RABBIT_PASS@127.0.0.1:5672/"
    local ks="http://$AIO_API:5000"
    mkdir -p "$AIO_ETC" "$AIO_BIN" /var/lib/nova/instances /var/lib/glance/images \
        /var/lib/neutron /var/lib/nova/tmp /var/lib/neutron/tmp /var/lib/cinder/tmp \
        "$AIO_VOLUME_DIR"
    ln -sfn . "$AIO_STATE/nfs:"
    chmod 700 "$AIO_ETC"
    umask 077

    # keystone_authtoken / service credentials, shared by every service
    auth_section() {
        cat <<EOF
www_authenticate_uri = $ks
auth_url = $ks
memcached_servers = 127.0.0.1:11211
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $1
password = $AIO_SERVICE_PASS
region_name = $AIO_REGION
EOF
    }

    cat > "$AIO_ETC/keystone.conf" <<EOF
[DEFAULT]
use_stderr = true
[database]
connection = $db/keystone
[token]
provider = fernet
[fernet_tokens]
key_repository = $AIO_STATE/keystone/fernet-keys
[credential]
key_repository = $AIO_STATE/keystone/credential-keys
# every request validates a token, and every client (Rally's, the tests')
# logs in: measured in a CI run, keystone spent 700 s of CPU (13 % of all)
# on 1,700 requests, token validations taking 2.4 s each on the busy
# machine. Cached in memcached (roles, catalog, tokens), and passwords hashed
# with bcrypt's fewest rounds (4, not 12: a login costs 1 ms, not 250 ms):
# this cloud lives in a namespace of its own, for tests
[cache]
enabled = true
backend = oslo_cache.memcache_pool
memcache_servers = 127.0.0.1:11211
[identity]
password_hash_rounds = 4
EOF

    cat > "$AIO_ETC/placement.conf" <<EOF
[DEFAULT]
use_stderr = true
[placement_database]
connection = $db/placement
[api]
auth_strategy = keystone
[keystone_authtoken]
$(auth_section placement)
EOF

    cat > "$AIO_ETC/glance-api.conf" <<EOF
[DEFAULT]
use_stderr = true
bind_host = $AIO_API
bind_port = 9292
workers = 1
enabled_backends = fs:file
[database]
connection = $db/glance
[keystone_authtoken]
$(auth_section glance)
[paste_deploy]
flavor = keystone
config_file = /etc/glance/glance-api-paste.ini
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = /var/lib/glance/images/
[oslo_concurrency]
lock_path = /var/lib/glance/tmp
EOF

    cat > "$AIO_ETC/nova.conf" <<EOF
[DEFAULT]
use_stderr = true
my_ip = $AIO_GW
transport_url = $rabbit
state_path = /var/lib/nova
instances_path = /var/lib/nova/instances
enabled_apis = osapi_compute
osapi_compute_listen = $AIO_API
osapi_compute_workers = 1
compute_driver = libvirt.LibvirtDriver
# cloud-init reads the SSH key from a config drive: no metadata service
force_config_drive = True
config_drive_format = iso9660
mkisofs_cmd = genisoimage
# a 2-core machine: new servers are few and small
reserved_host_memory_mb = 1024
[api]
auth_strategy = keystone
[wsgi]
api_paste_config = /etc/nova/api-paste.ini
[api_database]
connection = $db/nova_api
[database]
connection = $db/nova
[keystone_authtoken]
$(auth_section nova)
[service_user]
# Cinder lets only a service (a token with role "service") delete an
# attachment that nova made: without it a deleted server leaves its volume
# "in-use" for ever (ConflictNovaUsingAttachment, CVE-2023-2088's fix)
send_service_user_token = true
$(auth_section nova | sed -e '/^www_authenticate_uri/d' -e '/^memcached/d')
[glance]
api_servers = http://$AIO_API:9292
[placement]
$(auth_section placement | sed -e "s/^username = .*/username = nova/" -e '/^www_authenticate_uri/d' -e '/^memcached/d')
[neutron]
$(auth_section neutron | sed -e "s/^username = .*/username = nova/" -e '/^www_authenticate_uri/d' -e '/^memcached/d')
service_metadata_proxy = false
[conductor]
workers = 1
[scheduler]
workers = 1
# nova-scheduler maps new compute hosts into the cell itself (a query every
# 2 s): up and node2 up waited with a nova-manage discover_hosts a second,
# each about 3.5 s of CPU (54-70 CPU seconds a CI run, process accounting)
discover_hosts_in_cells_interval = 2
[filter_scheduler]
# nova's defaults, and the filters of the same_host / different_host hints
# (netperf's peer_placement): without them nova ignores those hints
enabled_filters = ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter,ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter,SameHostFilter,DifferentHostFilter
[vnc]
enabled = false
[spice]
enabled = false
[libvirt]
# no usable hardware virtualisation here: TCG, and no host CPU model
virt_type = qemu
cpu_mode = none
# volumes of Cinder's NFS driver: the share is a local directory (lib.sh)
nfs_mount_options = bind
[compute]
# every guest may run on both CPUs: confined to CPU 0 (PCPU on CPU 1), three
# TCG guests booting at once had sshd listening after 290 s instead of 107 s.
# 'cloud.sh cpus dedicated' sets cpu_dedicated_set = 1, cpu_shared_set = 0
# for hw:cpu_policy=dedicated flavors (PCPU) until the next up.
cpu_shared_set = 0-1
[oslo_concurrency]
lock_path = /var/lib/nova/tmp
[oslo_messaging_notifications]
driver = noop
[cinder]
os_region_name = $AIO_REGION
EOF

    cat > "$AIO_ETC/cinder.conf" <<EOF
[DEFAULT]
use_stderr = true
my_ip = $AIO_GW
transport_url = $rabbit
auth_strategy = keystone
state_path = /var/lib/cinder
osapi_volume_listen = $AIO_API
osapi_volume_workers = 1
api_paste_config = /etc/cinder/api-paste.ini
rootwrap_config = /etc/cinder/rootwrap.conf
glance_api_servers = http://$AIO_API:9292
enabled_backends = $AIO_VOLUME_TYPE
default_volume_type = $AIO_VOLUME_TYPE
[database]
connection = $db/cinder
[keystone_authtoken]
$(auth_section cinder)
[nova]
$(auth_section nova | sed -e "s/^username = .*/username = cinder/" -e '/^www_authenticate_uri/d' -e '/^memcached/d')
[oslo_concurrency]
lock_path = /var/lib/cinder/tmp
[oslo_messaging_notifications]
driver = noop
[$AIO_VOLUME_TYPE]
volume_driver = cinder.volume.drivers.nfs.NfsDriver
volume_backend_name = $AIO_VOLUME_TYPE
nfs_shares_config = $AIO_ETC/nfs_shares
nfs_mount_options = bind
nfs_sparsed_volumes = true
nfs_snapshot_support = false
# cinder-volume runs as root: the "secure" NAS modes only check that
nas_secure_file_operations = false
nas_secure_file_permissions = false
EOF
    echo "$AIO_VOLUME_SHARE" > "$AIO_ETC/nfs_shares"

    cat > "$AIO_ETC/neutron.conf" <<EOF
[DEFAULT]
use_stderr = true
bind_host = $AIO_API
core_plugin = ml2
# routers and floating IPs, served by the L3 agent (l3_agent.ini)
service_plugins = router
auth_strategy = keystone
transport_url = $rabbit
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 0
api_paste_config = /etc/neutron/api-paste.ini
state_path = /var/lib/neutron
notify_nova_on_port_status_changes = true
notify_nova_on_port_data_changes = true
dhcp_agents_per_network = 1
global_physnet_mtu = $AIO_TUNNEL_PHYS_MTU
[experimental]
# Zed's neutron-server refuses ML2/linuxbridge without this
linuxbridge = true
[database]
connection = $db/neutron
[keystone_authtoken]
$(auth_section neutron)
[nova]
$(auth_section nova | sed -e '/^www_authenticate_uri/d' -e '/^memcached/d')
[oslo_concurrency]
lock_path = /var/lib/neutron/tmp
[agent]
root_helper = sudo
[privsep]
# we run as root: start the helper directly, with the agent's PATH (which
# puts our ebtables wrapper first)
helper_command = privsep-helper
EOF

    # Tenant networks as on DevStack: VXLAN (this kernel has no VLAN
    # devices), the Linux bridge agent with l2population (unicast tunnels,
    # no multicast group), routed to the external network by the L3 agent.
    # MTU 1500 on every network, tenant ones too: the tunnel endpoint's
    # device has a jumbo MTU (AIO_TUNNEL_DEV), so VXLAN's 50 bytes fit in
    # global_physnet_mtu, and the flat networks keep their veths' 1500
    cat > "$AIO_ETC/ml2_conf.ini" <<EOF
[ml2]
type_drivers = flat,vxlan
tenant_network_types = vxlan
mechanism_drivers = linuxbridge,l2population
extension_drivers = port_security
physical_network_mtus = provider:1500,external:1500
[ml2_type_flat]
flat_networks = provider,external
[ml2_type_vxlan]
vni_ranges = 1:1000
EOF

    cat > "$AIO_ETC/linuxbridge_agent.ini" <<EOF
[linux_bridge]
physical_interface_mappings = provider:$AIO_PHYS_DEV,external:$AIO_EXT_PHYS_DEV
[vxlan]
enable_vxlan = true
local_ip = $AIO_TUNNEL_IP
l2_population = true
[securitygroup]
enable_security_group = true
firewall_driver = iptables
enable_ipset = false
EOF

    cat > "$AIO_ETC/dhcp_agent.ini" <<EOF
[DEFAULT]
interface_driver = linuxbridge
dhcp_driver = neutron.agent.linux.dhcp.Dnsmasq
enable_isolated_metadata = false
force_metadata = false
EOF

    cat > "$AIO_ETC/l3_agent.ini" <<EOF
[DEFAULT]
interface_driver = linuxbridge
# instances read their metadata from the config drive: no haproxy per router
enable_metadata_proxy = false
EOF

    # Debian 12's ebtables cannot delete some of neutron's rules: the agent
    # gets a wrapper first on its PATH (see ebtables-wrapper.sh)
    install -m 755 "$here/ebtables-wrapper.sh" "$AIO_BIN/ebtables"

    cat > "$AIO_ETC/openrc" <<EOF
export OS_AUTH_URL=$ks/v3
export OS_IDENTITY_API_VERSION=3
export OS_REGION_NAME=$AIO_REGION
export OS_USERNAME=admin
export OS_PASSWORD=$AIO_ADMIN_PASS
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
EOF

    cat > "$AIO_ETC/rally-env.json" <<EOF
{"openstack": {"auth_url": "$ks/v3", "region_name": "$AIO_REGION",
  "admin": {"username": "admin", "password": "$AIO_ADMIN_PASS",
            "project_name": "admin", "user_domain_name": "Default",
            "project_domain_name": "Default"}}}
EOF
    umask 022
}
