"""KVMPerf.netperf: netperf in 1..N instances at once, vs the host."""

import dataclasses
import typing as t

from rally.task import types
from rally.task import validation
from rally_openstack.task import scenario

from rally_kvm_perf import exceptions
from rally_kvm_perf.benchmarks import netperf
from rally_kvm_perf.benchmarks import outputs
from rally_kvm_perf.benchmarks import params
from rally_kvm_perf.sweep import engine
from rally_kvm_perf.sweep import plan
from rally_kvm_perf.task import validators  # noqa: F401 (registers them)
from rally_kvm_perf.task.scenarios.kvm_perf import arguments
from rally_kvm_perf.task.scenarios.kvm_perf import baselines
from rally_kvm_perf.task.scenarios.kvm_perf import utils

CONF = utils.CONF
# netserver in instances of the sweep: one shared, or one per client
PEER_KINDS = ("peer", "peers")


@types.convert(image={"type": "glance_image"}, flavor={"type": "nova_flavor"})
@arguments.sweep_validators
@validation.add("enum", param_name="peer_placement",
                values=list(plan.PEER_PLACEMENTS), missed=True)
@validation.add("number", param_name="duration", minval=1, integer_only=True,
                nullable=True)
@validation.add("number", param_name="message_size", minval=1,
                integer_only=True, nullable=True)
@scenario.configure(context={"cleanup@openstack": arguments.CLEANUP,
                             "keypair@openstack": {},
                             "allow_ssh@openstack": None},
                    name="KVMPerf.netperf", platform="openstack")
class Netperf(utils.KVMPerfScenario):
    """netperf in 1..N instances at once (see run())."""

    TOOLS = ("netperf", "netserver")

    @arguments.sweep_doc(tools="netperf (and netserver)", packages="netperf")
    def run(self, image, flavor=None,
            netserver: str = "peer",
            tests: t.Optional[t.List[t.Literal["TCP_STREAM", "UDP_STREAM",
                                               "TCP_RR"]]] = None,
            duration: int = 60,
            message_size: t.Optional[int] = None,
            cpu: bool = True,
            instances: int = 10,
            active_counts: t.Optional[t.List[int]] = None,
            repetitions: int = 10,
            between_repetitions: str = "drop_caches",
            min_repetitions: t.Optional[int] = None,
            target_half_width: t.Optional[float] = None,
            density_threshold: float = 0.8,
            username: str = "debian",
            password: t.Optional[str] = None,
            port: int = 22,
            use_floating_ip: bool = True,
            floating_network: t.Optional[str] = None,
            ssh_timeout: int = 300,
            command_timeout: t.Optional[int] = None,
            availability_zone: t.Optional[str] = None,
            placement: str = "same_host",
            peer_placement: str = "any",
            install_command: t.Optional[str] = None,
            host_baseline: t.Optional[str] = None,
            peer_baseline: bool = False,
            boot_kwargs: t.Optional[dict] = None,
            boot_from_volume: t.Optional[dict] = None,
            output_file: t.Optional[str] = None,
            resume: bool = False) -> None:
        """netperf in 1, 2, ... N instances at the same time, vs the host.

        Boots ``instances`` servers once, then for each number k in
        ``active_counts`` and each repetition runs every netperf test in
        the first k instances together (a barrier) against one netserver;
        each instance times its own run. Throughput (TCP_STREAM;
        UDP_STREAM: what reached the receiver), for TCP_RR transactions per
        second and latency percentiles, and CPU on both sides, are reported
        per level with the repetition as the unit and, with a host baseline
        measured against the same netserver (the same path: another target
        is refused), as VM/host ratios with the fitted line of ratio
        against active instances, the spread between instances (fairness)
        and the aggregate. Failures are reported per instance, level and
        repetition without losing the other instances' results; every
        server and floating IP is deleted at the end.

        @SWEEP_PARAMS@
        :param netserver: netserver the instances measure against:
            "HOST[:PORT]" (the same target the host baseline used, so that
            the ratio is fair); "peer" (default): one more instance is
            booted and runs netserver, reached on its fixed IP, and the k
            active instances share it (the paper's design: at level k the
            ratio also measures that netserver's capacity, whose own CPU
            and steal are read during every run); or "peers": one
            netserver instance per measured instance, each client its own
            (the clients' side alone; twice the servers)
        :param tests: any of TCP_STREAM, UDP_STREAM, TCP_RR (default the
            first two, as in the paper)
        :param duration: seconds per test (the paper: 60-120)
        :param message_size: send size of the stream tests in bytes
        :param cpu: measure CPU utilisation on both sides (netperf -c -C),
            as the paper does; the host baseline must too
            (``rally-kvm-perf baseline --cpu``)
        :param peer_placement: where netserver "peer" (or each of
            "peers") boots: "any"
            (default: the scheduler's choice, recorded), "same_host" (in
            the measured instances' affinity group: the traffic never
            leaves the host's bridge; needs placement same_host) or
            "other_host" (nova's different_host hint, the peer created
            once the measured instances have their hosts: the traffic
            crosses the network, like a host baseline against a remote
            netserver; needs DifferentHostFilter in nova's scheduler and
            an admin to check it). A peer not where asked fails the
            workload before anything is measured
        :param peer_baseline: with netserver "peer" (or "peers": against
            the first of them): after the peer boots,
            measure each compute host holding a measured instance against
            that same peer netserver (same tests, duration and CPU flags,
            ``repetitions`` runs), in this run, before the sweep: the
            host baseline of the instances' own target. Needs the
            kvm_perf_hypervisors context (to reach the hosts); excludes
            host_baseline and the kvm_perf_baseline context
        """
        work = NetperfWork(
            netserver,
            tuple(x.upper() for x in (tests or ["TCP_STREAM", "UDP_STREAM"])),
            duration=duration, message_size=message_size, cpu=bool(cpu))
        if netserver not in PEER_KINDS:
            netperf.parse_netserver(netserver)  # fail before booting
        if peer_baseline:
            if netserver not in PEER_KINDS:
                raise exceptions.InvalidArgument(
                    "peer_baseline measures the hosts against the peer "
                    "instance: it needs netserver \"peer\" or \"peers\", "
                    "not %r" % netserver)
            baselines.check_peer_baseline(self.context, host_baseline)
        self._sweep(work, **arguments.sweep_args(locals()),
                    peer=netserver in PEER_KINDS,
                    peer_each=netserver == "peers",
                    peer_placement=peer_placement,
                    peer_baseline=bool(peer_baseline))


@dataclasses.dataclass(frozen=True)
class NetperfWork:
    """netperf in the instances: against which netserver ("HOST[:PORT]",
    "peer" or "peers"), the tests and their options."""

    netserver: str
    tests: tuple
    duration: int
    message_size: t.Optional[int] = None
    cpu: bool = True

    def argv(self, test, target):
        host, port = netperf.parse_netserver(
            target, CONF.kvm_perf.netperf_port)
        return netperf.build_command(test, host, netperf.Options(
            port=port, duration=self.duration,
            message_size=(self.message_size if test != "TCP_RR" else None),
            cpu=self.cpu))

    def benchmarks(self, flavor_ram_mb, peers=None, watched=None):
        """The tests, each against the given netserver or, with peer(s),
        each instance against its peer's ({instance: "address:port"});
        the peers' counters are read while their clients run."""
        out = []
        for test in self.tests:
            if not peers:
                out.append(engine.Benchmark(outputs.netperf_name(test),
                                            self.argv(test, self.netserver)))
                continue
            each = {name: self.argv(test, address)
                    for name, address in peers.items()}
            shared = len(set(peers.values())) == 1
            out.append(engine.Benchmark(
                outputs.netperf_name(test), next(iter(each.values())),
                argv_by_target=None if shared else each,
                watched=watched or None, seconds=self.duration))
        return out

    def wanted(self, flavor_ram_mb):
        if self.netserver in PEER_KINDS:
            # one peer or one per client: a host baseline against an
            # instance of the same flavor either way
            host, port = "peer", CONF.kvm_perf.netperf_port
        else:
            host, port = netperf.parse_netserver(self.netserver,
                                                 CONF.kvm_perf.netperf_port)
        return params.Wanted(netperf=params.NetperfParams(
            host=host, port=port, tests=self.tests, duration=self.duration,
            message_size=self.message_size, cpu=self.cpu))
