"""vCPU pinning: flavor extra specs, libvirt domain XML, checks and plans.

Pure functions: no cloud, no libvirt connection.
"""

import xml.etree.ElementTree as ET

from rally_kvm_perf import exceptions

THREAD_POLICIES = ("prefer", "isolate", "require")
STRATEGIES = ("spread", "compact")


def flavor_extra_specs(pinning=False, cpu_thread_policy=None,
                       mem_page_size=None, numa_nodes=None, extra_specs=None):
    """Extra specs of the benchmark flavor.

    ``pinning`` False is the paper's "before" (no pinning specs); True adds
    ``hw:cpu_policy=dedicated`` and the optional thread policy, page size
    and NUMA node count. ``extra_specs`` pass through and win.
    """
    specs = {}
    if pinning:
        specs["hw:cpu_policy"] = "dedicated"
        if cpu_thread_policy is not None:
            if cpu_thread_policy not in THREAD_POLICIES:
                raise exceptions.InvalidArgument(
                    "cpu_thread_policy must be one of %s, got %r"
                    % (", ".join(THREAD_POLICIES), cpu_thread_policy))
            specs["hw:cpu_thread_policy"] = cpu_thread_policy
        if mem_page_size is not None:
            specs["hw:mem_page_size"] = str(mem_page_size)
        if numa_nodes is not None:
            specs["hw:numa_nodes"] = str(int(numa_nodes))
    elif any(v is not None for v in (cpu_thread_policy, mem_page_size,
                                      numa_nodes)):
        raise exceptions.InvalidArgument(
            "cpu_thread_policy, mem_page_size and numa_nodes apply to a "
            "pinned flavor: set pinning: true")
    specs.update({str(k): str(v) for k, v in (extra_specs or {}).items()})
    return specs


def wants_pinning(extra_specs):
    return (extra_specs or {}).get("hw:cpu_policy") == "dedicated"


def parse_cpuset(text):
    """libvirt cpuset syntax ('0-3,8,^2') -> sorted list of CPU numbers."""
    include, exclude = set(), set()
    for part in str(text).replace(" ", "").split(","):
        if not part:
            continue
        target = include
        if part.startswith("^"):
            target, part = exclude, part[1:]
        try:
            if "-" in part:
                low, high = (int(x) for x in part.split("-", 1))
                if low > high:
                    raise ValueError(part)
                target.update(range(low, high + 1))
            else:
                target.add(int(part))
        except ValueError:
            raise exceptions.InvalidArgument(
                "bad CPU set %r (expected e.g. '2-15' or '0-3,8,^2')"
                % text) from None
    return sorted(include - exclude)


def format_cpuset(cpus):
    """[0, 1, 2, 5] -> '0-2,5'."""
    cpus = sorted(set(cpus))
    parts, start = [], None
    for i, cpu in enumerate(cpus):
        if start is None:
            start = cpu
        if i + 1 == len(cpus) or cpus[i + 1] != cpu + 1:
            parts.append(str(start) if start == cpu else "%d-%d" % (start, cpu))
            start = None
    return ",".join(parts)


def parse_domain(xml):
    """The pinning of a libvirt domain from its XML.

    :returns: {"name", "vcpus", "vcpupin": {vcpu: [cpus]},
        "emulatorpin": [cpus] or None, "pinned": every vCPU has a pin}
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        raise exceptions.ParseError("bad libvirt domain XML: %s" % e) from None
    if root.tag != "domain":
        raise exceptions.ParseError(
            "not a libvirt domain XML (root element <%s>)" % root.tag)
    vcpu = root.find("vcpu")
    try:
        count = int(vcpu.text) if vcpu is not None else 1
    except (TypeError, ValueError):
        raise exceptions.ParseError("domain XML has a bad <vcpu> %r"
                                    % (vcpu.text,)) from None
    pins = {}
    emulator = None
    cputune = root.find("cputune")
    if cputune is not None:
        for pin in cputune.findall("vcpupin"):
            pins[int(pin.get("vcpu"))] = parse_cpuset(pin.get("cpuset"))
        emu = cputune.find("emulatorpin")
        if emu is not None:
            emulator = parse_cpuset(emu.get("cpuset"))
    return {"name": root.findtext("name"), "vcpus": count, "vcpupin": pins,
            "emulatorpin": emulator,
            "pinned": all(v in pins for v in range(count))}


def check(instances):
    """Flag pinning problems.

    :param instances: [{"instance", "hypervisor", "domain": parse_domain()
        result or None, "wants_pinning": bool}]
    :returns: list of sentences: instances whose flavor asked for pinning
        but whose domain is not pinned (or pinned to more than one CPU per
        vCPU), and pairs of instances on one host that share a physical CPU
    """
    return [sentence for sentence, _names in findings(instances)]


def findings(instances):
    """As :func:`check`, each sentence with the instances it is about:
    [(sentence, [instance, ...])]."""
    found = []
    owners = {}  # (hypervisor, cpu) -> instances pinned to it
    for inst in instances:
        domain = inst.get("domain")
        name = inst["instance"]
        if domain is None:
            found.append(("%s: its libvirt domain could not be read" % name,
                          [name]))
            continue
        if inst.get("wants_pinning"):
            if not domain["pinned"]:
                found.append((
                    "%s: the flavor asks for dedicated CPUs but the domain "
                    "has no <vcpupin> for every vCPU" % name, [name]))
            elif any(len(cpus) != 1 for cpus in domain["vcpupin"].values()):
                found.append((
                    "%s: dedicated CPUs asked for, but some vCPU may float "
                    "over several host CPUs" % name, [name]))
        if domain["pinned"]:
            for cpus in domain["vcpupin"].values():
                if len(cpus) == 1:
                    owners.setdefault((inst.get("hypervisor"), cpus[0]),
                                      set()).add(name)
    for (hypervisor, cpu), names in sorted(owners.items(),
                                           key=lambda x: str(x[0])):
        if len(names) > 1:
            found.append(("host CPU %d on %s is shared by %s"
                          % (cpu, hypervisor, ", ".join(sorted(names))),
                          sorted(names)))
    return found


EMULATOR_POLICIES = ("vcpus", "none")


def emulator_cpus(policy, vcpu_cpus):
    """Where runtime pinning puts an instance's emulator threads.

    :param policy: "vcpus" (the instance's own vCPUs' host CPUs), "none"
        (not pinned), or a CPU set such as "0" or "0,8"
    :param vcpu_cpus: the host CPU of each of its vCPUs
    :returns: sorted host CPUs, or None for "none"
    """
    if policy == "vcpus":
        return sorted(set(vcpu_cpus))
    if policy == "none":
        return None
    try:
        cpus = parse_cpuset(policy)
    except exceptions.InvalidArgument as e:
        cpus, why = None, str(e)
    else:
        why = "the CPU set %r is empty" % policy
    if not cpus:
        raise exceptions.InvalidArgument(
            "runtime pinning emulator must be one of %s or a CPU set: %s"
            % (", ".join(EMULATOR_POLICIES), why))
    return cpus


def plan(instances, cpus, strategy="spread"):
    """Runtime pinning plan: every vCPU on its own host CPU.

    :param instances: [(name, vcpus)] in boot order
    :param cpus: host CPUs to use, e.g. parse_cpuset("2-15")
    :param strategy: "compact" fills the CPUs in order (an instance's vCPUs
        are neighbours); "spread" deals them out round-robin, so that
        instances interleave across the range (and across cores/sockets when
        the range is numbered that way)
    :returns: {name: [host cpu of vCPU 0, of vCPU 1, ...]}
    """
    if strategy not in STRATEGIES:
        raise exceptions.InvalidArgument(
            "runtime pinning strategy must be one of %s, got %r"
            % (", ".join(STRATEGIES), strategy))
    cpus = list(cpus)
    needed = sum(n for _, n in instances)
    if needed > len(cpus):
        raise exceptions.InvalidArgument(
            "runtime pinning needs %d distinct host CPUs for %d instances "
            "but the CPU set has %d (%s)"
            % (needed, len(instances), len(cpus), format_cpuset(cpus)))
    result = {name: [] for name, _ in instances}
    if strategy == "compact":
        it = iter(cpus)
        for name, n in instances:
            result[name] = [next(it) for _ in range(n)]
        return result
    # spread: vCPU i of every instance before vCPU i+1 of any
    slot = 0
    for i in range(max((n for _, n in instances), default=0)):
        for name, n in instances:
            if i < n:
                result[name].append(cpus[slot])
                slot += 1
    return result
