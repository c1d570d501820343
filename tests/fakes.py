"""Small fake OpenStack clients, in the manner of rally-openstack's unit
tests (whose helpers its wheel does not ship): nova servers that are
"booted" on this machine, reachable at 127.0.0.1 through a private sshd."""

import itertools


class NotFound(Exception):
    code = 404


class FakeFlavor:
    def __init__(self, ram=64, vcpus=2, disk=40):
        self.id, self.ram, self.vcpus, self.disk = "flavor-1", ram, vcpus, disk


class FakeServer:
    def __init__(self, manager, name, image, flavor, kwargs, status="ACTIVE"):
        self.manager = manager
        self.id = "server-%d" % next(manager.ids)
        self.name = name
        self.image, self.flavor, self.kwargs = image, flavor, kwargs
        self.status = status
        # every server at 127.0.0.1, or each at its own loopback address
        # (the test sshd listens on 127.0.0.1-8)
        addr = ("127.0.0.%d" % (len(manager.created) + 1)
                if manager.distinct_addresses else "127.0.0.1")
        self.networks = {"private": [addr]}
        self.addresses = {"private": [{"addr": addr}]}
        self.reboots = 0
        if kwargs.get("block_device_mapping_v2") and not manager.ignore_bdm:
            # booted from a new volume: nova lists it attached
            setattr(self, VOLUMES_ATTR, [{"id": "vol-of-%s" % self.id}])
        setattr(self, "OS-EXT-SRV-ATTR:hypervisor_hostname",
                manager.place(kwargs) if manager.place
                else manager.hypervisor)
        # never nova's "instance-%08x": this machine's local cloud may run
        # a real guest of that name meanwhile (CI does), whose qemu the
        # telemetry would then find through libvirt's pid file
        setattr(self, "OS-EXT-SRV-ATTR:instance_name",
                "fake-instance-%08x" % int(self.id.split("-")[1]))

    def delete(self):
        self.manager.deleted.append(self.id)
        self.status = "DELETED"

    def reboot(self, reboot_type="SOFT"):
        self.reboots += 1
        self.reboot_types = getattr(self, "reboot_types", []) + [reboot_type]
        if self.manager.on_reboot:
            self.manager.on_reboot(self)


class FakeServers:
    def __init__(self, hypervisor="compute-1", fail_names=()):
        self.ids = itertools.count(1)
        self.created = []
        self.deleted = []
        self.hypervisor = hypervisor
        self.fail_after = None  # "ERROR" for the n-th server created
        self.error_index = None
        self.console = ""       # what get_console_output returns
        self.error_later = False  # every server goes to ERROR once polled
        self.on_reboot = None     # called with the server at each reboot
        self.error_fault = None   # nova's fault of the error_index server
        self.ignore_bdm = False   # a nova that boots from the image anyway
        # the scheduler: kwargs of a create -> its compute host (None: all
        # on `hypervisor`)
        self.place = None
        # the n-th server created is BUILD at first, ERROR (with
        # error_fault) from its second poll on: nova's scheduler failing
        # after the wait began
        self.late_error_index = None
        # the microversion of the client that was asked for last
        self.api_version = None
        self.distinct_addresses = False

    def get_console_output(self, server, length=None):
        lines = self.console.splitlines(True)
        return "".join(lines[-length:] if length else lines)

    def create(self, name, image, flavor, **kwargs):
        # novaclient refuses a volume type below microversion 2.67
        typed = any(b.get("volume_type") for b in
                    kwargs.get("block_device_mapping_v2") or [])
        version = tuple(int(p) for p in (self.api_version or "2.1").split("."))
        if typed and version < (2, 67):
            raise ValueError("Block device volume_type is not supported "
                             "before microversion 2.67")
        if version >= (2, 37) and not kwargs.get("nics"):
            raise ValueError("nics are required after microversion 2.36")
        status = "ACTIVE"
        if self.error_index is not None and len(self.created) == self.error_index:
            status = "ERROR"
        if len(self.created) == self.late_error_index:
            status = "BUILD"
        server = FakeServer(self, name, image, flavor, kwargs, status)
        if status == "ERROR" and self.error_fault:
            server.fault = {"message": self.error_fault}
        self.created.append(server)
        return server

    def get(self, server_id):
        for server in self.created:
            if server.id == getattr(server_id, "id", server_id):
                if server.id in self.deleted:
                    raise NotFound("server %s not found" % server.id)
                if server.status == "BUILD" and getattr(server, "polled",
                                                        False):
                    server.status = "ERROR"
                    server.fault = {"message": self.error_fault or "error"}
                if self.error_later and server.status == "ACTIVE" and \
                        getattr(server, "polled", False):
                    server.status = "ERROR"
                    server.fault = {"message": "host went away"}
                server.polled = True
                return server
        raise NotFound(server_id)


class FakeNova:
    def __init__(self, flavor=None, **kwargs):
        self.servers = FakeServers(**kwargs)
        self.server_groups = FakeServerGroups()
        self.flavors = type("Flavors", (), {
            "get": lambda _self, _id: flavor or FakeFlavor()})()


VOLUMES_ATTR = "os-extended-volumes:volumes_attached"


class FakeVolumes:
    """cinder's volumes: a server's root volume lives as long as its
    server (delete_on_termination), unless ``linger``."""

    def __init__(self, servers):
        self.servers = servers
        self.linger = False
        self.deleted = []
        self.polls = 0

    def get(self, vid):
        self.polls += 1
        for server in self.servers.created:
            if vid in [v["id"] for v in getattr(server, VOLUMES_ATTR, [])]:
                gone = (server.id in self.servers.deleted
                        and not self.linger) or vid in self.deleted
                if gone:
                    raise NotFound("volume %s not found" % vid)
                return vid
        raise NotFound("volume %s not found" % vid)

    def delete(self, vid):
        self.deleted.append(vid)


class FakeCinder:
    def __init__(self, servers):
        self.volumes = FakeVolumes(servers)


class FakeClients:
    def __init__(self, nova):
        self._nova = nova
        self._cinder = FakeCinder(nova.servers)

    def nova(self, version=None):
        self._nova.servers.api_version = version
        return self._nova

    def cinder(self, version=None):
        return self._cinder


def context(private_key, admin=False):
    ctx = {"task": {"uuid": "task-uuid"}, "owner_id": "owner-id",
           "iteration": 1,
           "user": {"id": "user-1", "credential": None,
                    "keypair": {"name": "kp", "private": private_key},
                    "secgroup": {"name": "allow_ssh"}},
           "tenant": {"id": "tenant-1"}}
    if admin:
        ctx["admin"] = {"credential": None}
    return ctx


# -- admin side: flavors, hypervisors, placement ---------------------------

class FakeFlavorObj:
    def __init__(self, manager, fid, name, ram, vcpus, disk):
        self.manager = manager
        self.id, self.name, self.ram, self.vcpus, self.disk = (
            fid, name, ram, vcpus, disk)
        self.keys = {}

    def set_keys(self, keys):
        self.keys.update(keys)

    def get_keys(self):
        return dict(self.keys)


class FakeFlavors:
    def __init__(self, existing=()):
        self.ids = itertools.count(100)
        self.items = {}
        self.deleted = []
        for name in existing:
            self.create(name, 512, 1, 1)

    def list(self, is_public=True):
        return list(self.items.values())

    def create(self, name, ram, vcpus, disk, **kwargs):
        flavor = FakeFlavorObj(self, "flavor-%d" % next(self.ids), name, ram,
                               vcpus, disk)
        self.items[flavor.id] = flavor
        return flavor

    def get(self, fid):
        if fid not in self.items:
            raise NotFound(fid)
        return self.items[fid]

    def delete(self, fid):
        from novaclient import exceptions as nova_exceptions
        if fid not in self.items:
            raise nova_exceptions.NotFound(404)
        self.deleted.append(fid)
        del self.items[fid]


class FakeHypervisor:
    def __init__(self, name, host_ip="127.0.0.1"):
        self.hypervisor_hostname = name
        self.host_ip = host_ip
        self.hypervisor_type = "QEMU"
        self.hypervisor_version = 7002000
        self.state, self.status = "up", "enabled"


class FakeAdminNova:
    def __init__(self, hypervisors=(), flavors=None, servers=None):
        self.hypervisors = type("H", (), {
            "list": lambda _self: list(hypervisors)})()
        self.flavors = flavors or FakeFlavors()
        self.servers = servers


class FakeResponse:
    def __init__(self, data):
        self.data = data

    def json(self):
        return self.data


class FakePlacement:
    """A keystoneauth-like session answering placement's two calls."""

    def __init__(self, inventories, broken=False):
        self.inventories = inventories  # {provider name: {rc: inventory}}
        self.broken = broken
        self.calls = []

    def get(self, url, endpoint_filter=None, headers=None):
        self.calls.append((url, endpoint_filter["service_type"]))
        if self.broken:
            raise ConnectionError("placement endpoint not found")
        names = sorted(self.inventories)
        if url == "/resource_providers":
            return FakeResponse({"resource_providers": [
                {"uuid": "uuid-%s" % n, "name": n} for n in names]})
        name = url.split("/")[2][len("uuid-"):]
        return FakeResponse({"inventories": self.inventories[name]})


class FakeAdminClients:
    def __init__(self, nova, placement=None):
        self._nova = nova
        self.keystone = type("K", (), {
            "get_session": lambda _self: (placement, None)})()

    def nova(self, version=None):
        return self._nova


class FakeServerGroups:
    def __init__(self):
        self.created, self.deleted = [], []

    def create(self, name, policies):
        group = type("Group", (), {"id": "group-%d" % (len(self.created) + 1),
                                   "name": name, "policies": policies})()
        self.created.append(group)
        return group

    def delete(self, group_id):
        self.deleted.append(group_id)
