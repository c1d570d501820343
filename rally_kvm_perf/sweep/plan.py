"""A sweep's plan: everything that can be decided before anything boots.

The sweep scenarios' shared run() arguments become a frozen ``SweepArgs``;
``make_plan`` checks them together (one place for each argument's rules)
and returns the ``Plan`` the scenario then carries out: the levels, where
the instances and netperf's peer go, the root disks, adaptive repetitions,
and the parameters a resumed sweep must match. Free of Rally and of any
cloud: a bad task fails here, in a second, naming the argument.
"""

import dataclasses
import typing as t

from rally_kvm_perf import exceptions
from rally_kvm_perf.host import pinning

# where the measured instances go: nova server groups, enforced by nova's
# scheduler (ServerGroup[Anti]AffinityFilter) and checked after the boot
PLACEMENTS = {"same_host": "affinity", "spread": "anti-affinity", "any": None}
# where netperf's peer netserver goes: beside the measured instances (their
# traffic never leaves the host's bridge), on another host (it crosses the
# physical network, as a host baseline against a remote netserver does), or
# the scheduler's choice; checked after the boot like the placement
PEER_PLACEMENTS = ("any", "same_host", "other_host")
VOLUME_KEYS = ("size", "type")


DEFAULT_MIN_REPETITIONS = 3


def check_adaptive(repetitions: int, min_repetitions: int | None,
                   target_half_width: float | None) -> None:
    """Adaptive repetitions' arguments, refused when they mean nothing."""
    if target_half_width is None:
        if min_repetitions is not None:
            raise exceptions.InvalidArgument(
                "min_repetitions needs target_half_width (adaptive "
                "repetitions); without it every level runs repetitions")
        return
    if not 0 < target_half_width < 1:
        raise exceptions.InvalidArgument(
            "target_half_width is a fraction of the mean (0.05: a 95%% "
            "interval within +-5%%), got %r" % (target_half_width,))
    if min_repetitions is not None and not 2 <= min_repetitions <= \
            repetitions:
        raise exceptions.InvalidArgument(
            "min_repetitions must be from 2 (an interval needs two) to "
            "repetitions (%d, the most a level runs), got %r"
            % (repetitions, min_repetitions))


def valid_levels(levels: t.Any, available: int) -> bool:
    """Are ``levels`` a non-empty list of whole numbers from 1 to
    ``available``? (The validator, the scenario and the engine ask.)"""
    return isinstance(levels, list) and bool(levels) and not [
        k for k in levels if isinstance(k, bool) or not isinstance(k, int)
        or not 1 <= k <= available]


@dataclasses.dataclass(frozen=True)
class SweepArgs:
    """The run() arguments every sweep scenario shares (their meaning:
    task/scenarios/kvm_perf/arguments.py, what `rally plugin show`
    prints)."""

    image: t.Any
    flavor: t.Any
    instances: int
    active_counts: t.Optional[t.List[int]]
    repetitions: int
    between_repetitions: str
    username: str
    password: t.Optional[str]
    port: int
    use_floating_ip: bool
    floating_network: t.Optional[str]
    ssh_timeout: int
    command_timeout: t.Optional[int]
    availability_zone: t.Optional[str]
    install_command: t.Optional[str]
    host_baseline: t.Optional[str]
    boot_kwargs: t.Optional[dict]
    output_file: t.Optional[str] = None
    resume: bool = False
    placement: str = "same_host"
    min_repetitions: t.Optional[int] = None
    target_half_width: t.Optional[float] = None
    boot_from_volume: t.Optional[dict] = None
    # the density answer's VM/host threshold (analysis/density.py)
    density_threshold: float = 0.8
    # netperf only: netserver "peer" boots one more instance, "peers" one
    # per measured instance (each client its own netserver)
    peer: bool = False
    peer_each: bool = False
    peer_placement: str = "any"
    peer_baseline: bool = False


# the names run() passes on (the scenario-only ones are set by keyword)
SWEEP_ARGS = tuple(f.name for f in dataclasses.fields(SweepArgs)
                   if f.name not in ("peer", "peer_each", "peer_placement",
                                     "peer_baseline"))


@dataclasses.dataclass(frozen=True)
class Plan:
    """What the sweep will do, decided before anything boots."""

    args: SweepArgs
    levels: t.Tuple[int, ...]
    # None, or {"size": GB, "type": volume type or None}
    boot_volume: t.Optional[dict]

    @property
    def peers(self) -> int:
        """netperf's netserver instances: none, one shared, or one per
        measured instance."""
        if not self.args.peer:
            return 0
        return self.args.instances if self.args.peer_each else 1

    @property
    def boots(self) -> int:
        """Servers to boot: the measured instances, and netperf's peers."""
        return self.args.instances + self.peers


def boot_volume(spec: t.Optional[dict]) -> t.Optional[dict]:
    """boot_from_volume checked: None or {"size": GB, "type": str or
    None}; InvalidArgument naming what is wrong."""
    if spec is None:
        return None
    if not isinstance(spec, dict) or "size" not in spec:
        raise exceptions.InvalidArgument(
            "boot_from_volume must be {\"size\": GB, \"type\": volume type "
            "(optional)}, got %r" % (spec,))
    unknown = sorted(set(spec) - set(VOLUME_KEYS))
    if unknown:
        raise exceptions.InvalidArgument(
            "boot_from_volume: unknown key(s) %s (known: %s)"
            % (", ".join(unknown), ", ".join(VOLUME_KEYS)))
    size = spec["size"]
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise exceptions.InvalidArgument(
            "boot_from_volume size must be a whole number of GB >= 1, got %r"
            % (size,))
    kind = spec.get("type")
    if kind is not None and (not isinstance(kind, str) or not kind):
        raise exceptions.InvalidArgument(
            "boot_from_volume type must be a volume type's name, got %r"
            % (kind,))
    return {"size": size, "type": kind}


def _check_placements(args: SweepArgs) -> None:
    if args.placement not in PLACEMENTS:
        raise exceptions.InvalidArgument(
            "placement must be one of %s, got %r"
            % (", ".join(PLACEMENTS), args.placement))
    if args.peer_placement not in PEER_PLACEMENTS:
        raise exceptions.InvalidArgument(
            "peer_placement must be one of %s, got %r"
            % (", ".join(PEER_PLACEMENTS), args.peer_placement))
    if args.peer_each and not args.peer:
        raise exceptions.InvalidArgument(
            "one netserver per client needs netserver \"peers\"")
    if args.peer_placement != "any" and not args.peer:
        raise exceptions.InvalidArgument(
            "peer_placement %s places netserver \"peer\": there is no "
            "peer instance to place" % args.peer_placement)
    if args.peer_placement == "same_host" and args.placement != "same_host":
        raise exceptions.InvalidArgument(
            "peer_placement same_host needs placement same_host: with "
            "placement %s the measured instances may be on several "
            "hosts" % args.placement)


def make_plan(args: SweepArgs) -> Plan:
    """The plan of a sweep, or InvalidArgument naming what cannot be."""
    _check_placements(args)
    check_adaptive(args.repetitions, args.min_repetitions,
                          args.target_half_width)
    threshold = args.density_threshold
    if isinstance(threshold, bool) or not isinstance(
            threshold, (int, float)) or not 0 < threshold < 100:
        raise exceptions.InvalidArgument(
            "density_threshold must be a VM/host ratio above 0 (e.g. 0.8), "
            "got %r" % (threshold,))
    volume = boot_volume(args.boot_from_volume)
    if volume and set(args.boot_kwargs or {}) & {
            "block_device_mapping", "block_device_mapping_v2"}:
        raise exceptions.InvalidArgument(
            "boot_from_volume and a block device mapping in boot_kwargs "
            "both say what the root disk is: give one")
    levels = list(args.active_counts or range(1, args.instances + 1))
    if not valid_levels(levels, args.instances):
        raise exceptions.InvalidArgument(
            "active_counts %r must be whole numbers from 1 to the %d "
            "instances booted" % (levels, args.instances))
    return Plan(args=args, levels=tuple(levels), boot_volume=volume)


def check_host_count(hypervisors: t.Optional[dict], plan: Plan) -> None:
    """Refuse, before booting, a placement the compute hosts that the
    kvm_perf_hypervisors context found cannot honour (without it, nova's
    refusal at boot says the same, later)."""
    if hypervisors is None:
        return
    args = plan.args
    usable = sorted(name for name, hv in hypervisors.items()
                    if hv.get("state") in ("up", None)
                    and hv.get("status") in ("enabled", None))
    have = "nova has %d compute host(s) up and enabled%s" % (
        len(usable), " (%s)" % ", ".join(usable) if usable else "")
    if args.placement == "spread" and len(usable) < args.instances:
        raise exceptions.SweepFailed(
            "placement spread: one instance per compute host needs %d "
            "compute hosts, %s; nothing was booted" % (args.instances, have))
    if args.peer_placement == "other_host" and len(usable) < 2:
        raise exceptions.SweepFailed(
            "peer_placement other_host: the netserver peer needs a compute "
            "host other than the measured instances', %s; nothing was "
            "booted" % have)


def check_runtime_pinning(runtime: t.Optional[dict], plan: Plan,
                          vcpus: int) -> None:
    """Runtime pinning (the kvm_perf_hypervisors context's
    ``runtime_pinning``) gives every vCPU of the instances on a host a host
    CPU of its own: refused before booting where the placement already
    says one host gets more vCPUs than the CPU set has (placement any is
    checked after the boot, where the instances landed)."""
    if not runtime:
        return
    cpus = pinning.parse_cpuset(runtime["cpus"])
    args = plan.args
    together = args.instances if args.placement == "same_host" else 1
    if args.peer and args.peer_placement == "same_host":
        # the peers are pinned too, on the same host
        together += args.instances if args.peer_each else 1
    if together * vcpus > len(cpus):
        raise exceptions.InvalidArgument(
            "runtime pinning cannot be applied: placement %s puts %d "
            "instance(s) of %d vCPU(s) on one compute host, %d vCPUs, but "
            "the CPU set %s has %d host CPUs (one per vCPU); give fewer "
            "instances, a smaller flavor or a larger runtime_pinning cpus; "
            "nothing was booted" % (
                args.placement, together, vcpus, together * vcpus,
                pinning.format_cpuset(cpus), len(cpus)))


@dataclasses.dataclass(frozen=True)
class FlavorShape:
    """A flavor by what it gives (the kvm_perf_flavor context makes a new
    flavor, a new ID, for every task)."""

    vcpus: int
    ram_mb: int
    disk_gb: int
    extra_specs: t.Dict[str, str]


def parameters(plan: Plan, scenario: str, flavor: FlavorShape,
               wanted: t.Dict[str, t.Any]) -> dict:
    """What a sweep's runs depend on: a resumed sweep must match it.
    ``wanted``: the benchmark parameters by tool (None where unused)."""
    args = plan.args
    out = {"scenario": scenario, "image": str(args.image),
           "flavor": {"vcpus": flavor.vcpus, "ram_mb": flavor.ram_mb,
                      "disk_gb": flavor.disk_gb,
                      "extra_specs": dict(sorted(
                          flavor.extra_specs.items()))},
           "instances": args.instances, "levels": list(plan.levels),
           "repetitions": args.repetitions,
           "between_repetitions": args.between_repetitions,
           "placement": args.placement,
           **{tool: dataclasses.asdict(params) if params else None
              for tool, params in wanted.items()
              # no "fio": None -- a sweep saved before fio resumes
              if params or tool != "fio"}}
    # each only when asked: a sweep saved before the option resumes
    if plan.boot_volume:
        out["boot_from_volume"] = plan.boot_volume
    if args.peer:   # the peer's host decides netperf's path
        out["peer_placement"] = args.peer_placement
    if args.peer_each:  # a netserver per client: another measurement
        out["netserver"] = "peers"
    if args.target_half_width:
        out["adaptive"] = {"min_repetitions": args.min_repetitions,
                           "target_half_width": args.target_half_width}
    return out
