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
        self.networks = {"private": ["127.0.0.1"]}
        self.addresses = {"private": [{"addr": "127.0.0.1"}]}
        self.reboots = 0
        setattr(self, "OS-EXT-SRV-ATTR:hypervisor_hostname",
                manager.hypervisor)

    def delete(self):
        self.manager.deleted.append(self.id)
        self.status = "DELETED"

    def reboot(self, reboot_type="SOFT"):
        self.reboots += 1


class FakeServers:
    def __init__(self, hypervisor="compute-1", fail_names=()):
        self.ids = itertools.count(1)
        self.created = []
        self.deleted = []
        self.hypervisor = hypervisor
        self.fail_after = None  # "ERROR" for the n-th server created
        self.error_index = None

    def create(self, name, image, flavor, **kwargs):
        status = "ACTIVE"
        if self.error_index is not None and len(self.created) == self.error_index:
            status = "ERROR"
        server = FakeServer(self, name, image, flavor, kwargs, status)
        self.created.append(server)
        return server

    def get(self, server_id):
        for server in self.created:
            if server.id == getattr(server_id, "id", server_id):
                if server.id in self.deleted:
                    raise NotFound("server %s not found" % server.id)
                return server
        raise NotFound(server_id)


class FakeNova:
    def __init__(self, flavor=None, **kwargs):
        self.servers = FakeServers(**kwargs)
        self.flavors = type("Flavors", (), {
            "get": lambda _self, _id: flavor or FakeFlavor()})()


class FakeClients:
    def __init__(self, nova):
        self._nova = nova

    def nova(self, version=None):
        return self._nova


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
