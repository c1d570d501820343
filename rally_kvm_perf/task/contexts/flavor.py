"""kvm_perf_flavor: the benchmark flavor, pinned or not."""

import uuid

from rally import exceptions as rally_exceptions
from rally.common import validation
from rally_openstack.task import context

from rally_kvm_perf.host import pinning
from rally_kvm_perf.host import placement
from rally_kvm_perf.task.contexts import common


@validation.add("required_platform", platform="openstack", admin=True)
@context.configure(name="kvm_perf_flavor", order=341)
class KVMPerfFlavor(context.OpenStackContext):
    """Create the benchmark flavor; pinned for the paper's optimisation.

    Defaults are the paper's 2 vCPU / 2048 MB / 40 GB. ``pinning: true``
    adds ``hw:cpu_policy=dedicated`` (and the optional thread policy,
    hugepages, NUMA nodes); ``extra_specs`` pass through. The flavor is in
    ``context["kvm_perf"]["flavor"]`` and the KVMPerf scenarios use it when
    they are given no ``flavor`` argument. A pinned flavor is refused at
    setup when no compute host offers dedicated CPUs (no PCPU inventory in
    placement), instead of every boot failing with "No valid host".
    Cleanup deletes only the flavor this context created, by its ID.

    Options: ``name`` (default: a random one), ``vcpus``, ``ram`` (MB),
    ``disk`` (GB), ``pinning``, ``cpu_thread_policy`` (prefer, isolate,
    require), ``mem_page_size`` (e.g. large, 1GB), ``numa_nodes``,
    ``extra_specs`` (passed through) and ``check_pcpu`` (default true: the
    PCPU check above; false skips it).
    """

    UNREPORTED_KEYS = ()   # task/reportable.py: every key may be shown
    created_id = None      # the flavor setup created: cleanup deletes it

    CONFIG_SCHEMA = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "vcpus": {"type": "integer", "minimum": 1},
            "ram": {"type": "integer", "minimum": 1},
            "disk": {"type": "integer", "minimum": 0},
            "pinning": {"type": "boolean"},
            "cpu_thread_policy": {"enum": list(pinning.THREAD_POLICIES)},
            "mem_page_size": {"type": ["string", "integer"]},
            "numa_nodes": {"type": "integer", "minimum": 1},
            "extra_specs": {"type": "object",
                            "additionalProperties": {"type": "string"}},
            "check_pcpu": {"type": "boolean"},
        },
        "additionalProperties": False,
    }
    DEFAULT_CONFIG = {"vcpus": 2, "ram": 2048, "disk": 40, "pinning": False,
                      "check_pcpu": True}

    def setup(self):
        cfg = self.config
        specs = pinning.flavor_extra_specs(
            pinning=cfg["pinning"],
            cpu_thread_policy=cfg.get("cpu_thread_policy"),
            mem_page_size=cfg.get("mem_page_size"),
            numa_nodes=cfg.get("numa_nodes"),
            extra_specs=cfg.get("extra_specs"))
        clients = common.admin_clients(self.context)
        shared = common.shared(self.context)
        if pinning.wants_pinning(specs) and cfg["check_pcpu"]:
            self._check_pcpu(clients, shared)
        nova = clients.nova()
        name = cfg.get("name") or "kvm-perf-%s-%dc-%dm-%dg-%s" % (
            "pinned" if pinning.wants_pinning(specs) else "shared",
            cfg["vcpus"], cfg["ram"], cfg["disk"], uuid.uuid4().hex[:8])
        if any(f.name == name for f in nova.flavors.list(is_public=None)):
            raise rally_exceptions.ContextSetupFailure(
                ctx_name=self.get_name(),
                msg="a flavor named %s exists already; this context creates "
                    "its own flavor and deletes only that one: choose another "
                    "name" % name)
        flavor = nova.flavors.create(name, cfg["ram"], cfg["vcpus"],
                                     cfg["disk"])
        self.created_id = flavor.id
        if specs:
            flavor.set_keys(specs)
        shared["flavor"] = {"id": flavor.id, "name": name,
                            "vcpus": cfg["vcpus"], "ram": cfg["ram"],
                            "disk": cfg["disk"], "extra_specs": specs,
                            "pinning": pinning.wants_pinning(specs)}

    def _check_pcpu(self, clients, shared):
        try:
            session = clients.keystone.get_session()[0]
            hosts = placement.pcpu_hosts(session)
        except Exception as e:  # placement unreachable: cannot tell
            shared.setdefault("warnings", []).append(
                "could not ask placement for PCPU inventory (%s): pinned "
                "boots may fail with 'No valid host'" % e)
            return
        if not hosts:
            raise rally_exceptions.ContextSetupFailure(
                ctx_name=self.get_name(),
                msg="this cloud cannot honour hw:cpu_policy=dedicated: no "
                    "compute host reports PCPU inventory in placement. Set "
                    "[compute] cpu_dedicated_set (e.g. '2-15') and "
                    "cpu_shared_set in nova.conf of the compute hosts and "
                    "restart nova-compute; or run unpinned (pinning: false), "
                    "or pin at runtime with the kvm_perf_hypervisors "
                    "context's runtime_pinning")
        shared["pcpu_hosts"] = hosts

    def cleanup(self):
        flavor_id = self.created_id
        if flavor_id is None:
            return
        from novaclient import exceptions as nova_exceptions

        try:
            common.admin_clients(self.context).nova().flavors.delete(flavor_id)
        except nova_exceptions.NotFound:
            pass
