"""KVMPerf.bonnie: bonnie++ in 1..N instances at once, vs the host."""

import dataclasses
import typing as t

from rally.task import types
from rally.task import validation
from rally_openstack.task import scenario

from rally_kvm_perf.benchmarks import bonnie
from rally_kvm_perf.benchmarks import outputs
from rally_kvm_perf.benchmarks import params
from rally_kvm_perf.sweep import engine
from rally_kvm_perf.task import validators  # noqa: F401 (registers them)
from rally_kvm_perf.task.scenarios.kvm_perf import arguments
from rally_kvm_perf.task.scenarios.kvm_perf import utils


@types.convert(image={"type": "glance_image"}, flavor={"type": "nova_flavor"})
@arguments.sweep_validators
@validation.add("number", param_name="bonnie_size_mb", minval=1,
                integer_only=True, nullable=True)
@scenario.configure(context={"cleanup@openstack": arguments.CLEANUP,
                             "keypair@openstack": {},
                             "allow_ssh@openstack": None},
                    name="KVMPerf.bonnie", platform="openstack")
class Bonnie(utils.KVMPerfScenario):
    """bonnie++ in 1..N instances at once (see run())."""

    TOOLS = ("bonnie++",)

    @arguments.sweep_doc(tools="bonnie++", packages="bonnie++")
    def run(self, image, flavor=None,
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
            install_command: t.Optional[str] = None,
            host_baseline: t.Optional[str] = None,
            boot_kwargs: t.Optional[dict] = None,
            boot_from_volume: t.Optional[dict] = None,
            output_file: t.Optional[str] = None,
            resume: bool = False,
            bonnie_directory: str = "/var/tmp",
            bonnie_size_mb: t.Optional[int] = None,
            bonnie_files: t.Union[int, str, None] = None,
            bonnie_fast: bool = False,
            force: bool = False,
            bonnie_extra_args: t.Optional[t.List[str]] = None) -> None:
        """bonnie++ in 1, 2, ... N instances at the same time, vs the host.

        Boots ``instances`` servers once, then for each number k in
        ``active_counts`` and each repetition starts bonnie++ in the first k
        instances together (a barrier); each instance times its own run, so
        that the report shows how well the runs overlapped. Every metric
        (char/block write, rewrite, char/block read, seeks, file tests,
        %CPU, latencies) is reported per level with the repetition as the
        unit (the level's value in a repetition is the mean of its k
        instances), with its 95% interval and, with a host baseline, as a
        VM/host ratio (1.0 = parity, below 1.0 the VM does worse) with the
        fitted line of ratio against active instances; the spread between
        instances (fairness) and the aggregate beside it. One instance
        failing does not discard the others' results: the failure is
        reported with instance, level, repetition and cause, and the
        iteration fails after the report is written. Every server and
        floating IP is deleted at the end.

        @SWEEP_PARAMS@
        :param bonnie_directory: directory in the instances bonnie++ writes
            to (on the instance's disk)
        :param bonnie_size_mb: file size in MiB (default twice the flavor's
            RAM)
        :param bonnie_files: bonnie++ -n (default: bonnie++'s 16; 0 skips
            the file tests)
        :param bonnie_fast: bonnie++ -f: skip the per-char tests
        :param force: allow a file size below twice the flavor's RAM
        :param bonnie_extra_args: further bonnie++ arguments, e.g. ["-D"]
            (O_DIRECT: the disk, not the page cache; the host baseline must
            use the same)
        """
        # before anything boots
        bonnie.check_direct_io(bonnie_fast, bonnie_extra_args)
        work = BonnieWork(
            bonnie_directory, bonnie.Options(
                size_mb=bonnie_size_mb, files=bonnie_files, fast=bonnie_fast,
                force=force, extra_args=tuple(bonnie_extra_args or ())))
        self._sweep(work, **arguments.sweep_args(locals()))


@dataclasses.dataclass(frozen=True)
class BonnieWork:
    """bonnie++ in the instances: its directory and options; the file
    size, where not given, twice the flavor's RAM."""

    directory: str
    options: bonnie.Options

    def argv(self, flavor_ram_mb, user=None):
        return bonnie.build_command(
            self.directory, dataclasses.replace(self.options, user=user),
            machine_ram_mb=flavor_ram_mb)

    def benchmarks(self, flavor_ram_mb, peers=None, watched=None):
        # as root (sudo for other users): the same privileges as on the
        # host, and bonnie++ then needs -u root
        return [engine.Benchmark(outputs.BONNIE,
                                 self.argv(flavor_ram_mb, "root"),
                                 as_root=True)]

    def wanted(self, flavor_ram_mb):
        argv = self.argv(flavor_ram_mb)
        o = self.options
        size = int(argv[argv.index("-s") + 1].split(":")[0])
        return params.Wanted(bonnie=params.BonnieParams(
            directory=self.directory, size_mb=size,
            files=None if o.files is None else str(o.files),
            fast=o.fast, extra_args=tuple(o.extra_args)))
