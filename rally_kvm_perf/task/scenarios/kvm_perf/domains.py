"""After the boot: where each instance landed, its libvirt domain, runtime
pinning, and the check that pinning asked for is pinning in place.

The scenarios call :func:`after_boot` once their servers are ACTIVE, with
what the ``kvm_perf_hypervisors`` context found (compute hosts and how to
reach their libvirt). What the user asked for and did not happen -- a
dedicated-CPU flavor whose domain is not pinned, runtime pinning not
applied, two "dedicated" instances on one host CPU -- is returned per
instance in ``unmet``: the scenario measures none of those instances and
fails, rather than report numbers of an unpinned VM as pinned ones.
"""

from rally.task import atomic

from rally_kvm_perf import exceptions
from rally_kvm_perf.host import libvirt_client
from rally_kvm_perf.host import pinning
from rally_kvm_perf.task.contexts import common

# nova's admin-only server attribute: the libvirt domain name
INSTANCE_NAME = "OS-EXT-SRV-ATTR:instance_name"


def after_boot(ctx, instances, admin_nova, flavor_specs=None):
    """Runtime pinning (if configured) and pinning verification.

    :param ctx: the Rally context (with ``kvm_perf`` from the
        kvm_perf_hypervisors context)
    :param instances: [(display name, server id)] in boot order
    :param admin_nova: admin novaclient, to read instance_name/hypervisor
    :param flavor_specs: the flavor's extra specs (pinning asked or not)
    :returns: {"instances": [{instance, hypervisor, domain, vcpupin,
        emulatorpin, pinned, runtime_pinned}], "problems": [str],
        "unmet": {instance: why}} or None when the kvm_perf_hypervisors
        context is not there
    """
    shared = ctx.get(common.KEY, {})
    hypervisors = shared.get("hypervisors")
    if hypervisors is None:
        return None
    runtime = shared.get("runtime_pinning")
    wants = pinning.wants_pinning(flavor_specs)
    found = _Findings(asked=wants or bool(runtime))
    placed = _placed(instances, admin_nova, found.problem)
    by_host = {}
    for item in placed:
        by_host.setdefault(item["hypervisor"], []).append(item)
    checks = []
    for host, items in by_host.items():
        checks.extend(_inspect_host(host, items, hypervisors.get(host),
                                    runtime, wants, found.problem))
    if shared.get("verify_pinning", True):
        for sentence, names in pinning.findings(
                [c for c in checks if c["domain"] is not None]):
            found.problem(sentence, names)
    return {"instances": [_described(item) for item in placed],
            "problems": found.problems, "unmet": found.unmet}


class _Findings:
    """What went wrong; an instance's first problem is why it is not
    measured when pinning was asked for (else the problems are notes)."""

    def __init__(self, asked):
        self.asked = asked
        self.problems, self.unmet = [], {}

    def problem(self, sentence, names=()):
        self.problems.append(sentence)
        if self.asked:
            for name in names:
                self.unmet.setdefault(name, sentence)


def _placed(instances, admin_nova, problem):
    """[{instance, domain, hypervisor, vcpus}] of the servers nova shows
    its admin (where each landed, its libvirt domain)."""
    placed = []
    for display, server_id in instances:
        try:
            server = admin_nova.servers.get(server_id)
        except Exception as e:  # pinning unknown: unmet only if asked for
            problem("%s: cannot read it as admin: %s" % (display, e),
                    [display])
            continue
        placed.append({"instance": display,
                       "domain": getattr(server, INSTANCE_NAME, None),
                       "hypervisor": getattr(server, common.HYPERVISOR_ATTR,
                                             None),
                       "vcpus": None})
    return placed


def _inspect_host(host, items, entry, runtime, wants, problem):
    """On one compute host: runtime pinning (if configured), then each
    domain's pinning as libvirt has it; the checks for pinning.findings."""
    names = [i["instance"] for i in items]
    if entry is None:
        problem("%s: on %s, which kvm_perf_hypervisors did not inspect"
                % (", ".join(names), host), names)
        return []
    try:
        lv = libvirt_client.Libvirt(entry["access"]["libvirt_uri"],
                                    readonly=runtime is None)
    except exceptions.KVMPerfError as e:
        problem("%s: %s" % (host, e), names)
        return []
    checks = []
    try:
        if runtime:
            _pin(lv, items, runtime, problem)
        for item in items:
            try:
                domain = pinning.parse_domain(lv.domain_xml(item["domain"]))
            except exceptions.KVMPerfError as e:
                domain = None
                problem("%s: %s" % (item["instance"], e), [item["instance"]])
            item["parsed"] = domain
            if domain is not None and "planned" in item:
                _check_runtime(item, domain, problem)
            checks.append({"instance": item["instance"], "hypervisor": host,
                           "domain": domain, "wants_pinning": wants})
    finally:
        lv.close()
    return checks


def _described(item):
    """One instance as the report and the record show it."""
    domain = item.get("parsed")
    return {
        "instance": item["instance"], "hypervisor": item["hypervisor"],
        "domain": item["domain"],
        "vcpupin": ({str(k): pinning.format_cpuset(v)
                     for k, v in domain["vcpupin"].items()}
                    if domain else None),
        "emulatorpin": (pinning.format_cpuset(domain["emulatorpin"])
                        if domain and domain["emulatorpin"] else None),
        "pinned": domain["pinned"] if domain else None,
        "runtime_pinned": item.get("runtime_pinned")}


def _pin(lv, items, runtime, problem):
    """The paper's ``virsh vcpupin``, through libvirt: every vCPU of these
    instances on its own host CPU out of ``runtime["cpus"]``."""
    vcpus = []
    for item in items:
        try:
            item["vcpus"] = pinning.parse_domain(
                lv.domain_xml(item["domain"]))["vcpus"]
            vcpus.append((item["domain"], item["vcpus"]))
        except exceptions.KVMPerfError as e:
            problem("%s: %s" % (item["instance"], e), [item["instance"]])
    try:
        plan = pinning.plan(vcpus, pinning.parse_cpuset(runtime["cpus"]),
                            runtime.get("strategy", "spread"))
    except exceptions.InvalidArgument as e:
        problem("runtime pinning on %s not done: %s" % (lv.uri, e),
                [i["instance"] for i in items])
        return
    for item in items:
        cpus = plan.get(item["domain"])
        if cpus is None:
            continue
        emulator = pinning.emulator_cpus(runtime.get("emulator", "vcpus"),
                                         cpus)
        item["planned"] = (cpus, emulator)
        try:
            lv.pin(item["domain"], cpus, emulator)
            item["runtime_pinned"] = pinning.format_cpuset(cpus)
        except exceptions.KVMPerfError as e:
            problem("%s: %s" % (item["instance"], e), [item["instance"]])


def _check_runtime(item, domain, problem):
    """Runtime pinning read back: every vCPU on the one CPU planned for it,
    the emulator threads where they were put. libvirt accepting the call
    is not proof; the domain's own XML is."""
    cpus, emulator = item["planned"]
    name = item["instance"]
    got = [domain["vcpupin"].get(v) for v in range(len(cpus))]
    if got != [[c] for c in cpus]:
        problem("%s: runtime pinning asked vCPU→CPU %s, the domain shows %s"
                % (name, ", ".join("%d→%d" % vc for vc in enumerate(cpus)),
                   ", ".join("%d→%s" % (v, pinning.format_cpuset(c))
                             for v, c in enumerate(got) if c)
                   or "no <vcpupin>"), [name])
    if emulator and domain["emulatorpin"] != emulator:
        problem("%s: runtime pinning asked the emulator threads on %s, the "
                "domain shows %s" % (
                    name, pinning.format_cpuset(emulator),
                    pinning.format_cpuset(domain["emulatorpin"])
                    if domain["emulatorpin"] else "no <emulatorpin>"),
                [name])


class Pinning:
    """A sweep's pinning: applied and read back after the boot and after
    every reboot (each reboot makes a new libvirt domain), kept as
    ``history`` for the sweep's JSON; an instance whose pinning asked for
    is not in place is not measured."""

    def __init__(self, scenario, flavor_specs, notes):
        self.sc = scenario
        self.flavor_specs = flavor_specs
        self.notes = notes
        self.report = None      # after the boot; None without the context
        self.history = []       # the boot's report, then each reboot's

    def _read(self, fleet):
        # every booted server, the peer and idle ones too: the check sees
        # every pinned CPU, so that no two instances share one
        instances = [(i.name, i.server.id) for i in fleet.usable()]
        with atomic.ActionTimer(self.sc, "kvm_perf.check_pinning"):
            return after_boot(self.sc.context, instances,
                              self.sc.admin_clients("nova"),
                              self.flavor_specs)

    def after_boot(self, fleet):
        """Runtime pinning and the pinning check, when the
        kvm_perf_hypervisors context (and an admin) is there."""
        shared = self.sc.context.get(common.KEY, {})
        if "hypervisors" not in shared or "admin" not in self.sc.context:
            return
        self.report = self._read(fleet)
        self.history = [dict(self.report, after_reboot=0)]
        self.notes.extend("pinning: %s" % p for p in self.report["problems"])
        # pinning asked for and not in place: that instance is not measured
        # (numbers of an unpinned VM are not the pinned ones) and the
        # workload fails naming it
        for instance in fleet.usable():
            why = self.report["unmet"].get(instance.name)
            if why:
                instance.error = ("%s: pinning asked for but not in place: "
                                  "%s" % (instance.name, why))

    def after_reboot(self, fleet, targets, reboot):
        """Read back (and apply again) after reboot number ``reboot``; a
        rebooted instance whose pinning is gone is marked broken."""
        if self.report is None:
            return
        report = self._read(fleet)
        report["after_reboot"] = reboot
        self.history.append(report)
        for target in targets:
            why = report["unmet"].get(target.name)
            if why:
                target.broken = ("pinning asked for but not in place after "
                                 "reboot %d: %s" % (reboot, why))
        pins = ["%s %s" % (r["instance"], ", ".join(
            "%s→%s" % kv for kv in sorted((r["vcpupin"] or {}).items())))
            for r in report["instances"]]
        self.notes.append("pinning read back after reboot %d: %s" % (
            reboot, "; ".join(pins) or "no instance"))
