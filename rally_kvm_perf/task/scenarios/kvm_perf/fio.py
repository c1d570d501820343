"""KVMPerf.fio: fio's IOPS, bandwidth and latency in 1..N instances at
once, vs the host."""

import dataclasses
import typing as t

from rally.task import types
from rally.task import validation
from rally_openstack.task import scenario

from rally_kvm_perf.benchmarks import fio
from rally_kvm_perf.benchmarks import outputs
from rally_kvm_perf.benchmarks import params
from rally_kvm_perf.sweep import engine
from rally_kvm_perf.task import validators  # noqa: F401 (registers them)
from rally_kvm_perf.task.scenarios.kvm_perf import arguments
from rally_kvm_perf.task.scenarios.kvm_perf import utils


@types.convert(image={"type": "glance_image"}, flavor={"type": "nova_flavor"})
@arguments.sweep_validators
@validation.add("number", param_name="fio_size_mb", minval=1,
                integer_only=True, nullable=True)
@validation.add("number", param_name="fio_runtime", minval=1,
                integer_only=True, nullable=True)
@validation.add("number", param_name="fio_ramp_time", minval=0,
                integer_only=True, nullable=True)
@validation.add("number", param_name="fio_iodepth", minval=1, maxval=65536,
                integer_only=True, nullable=True)
@scenario.configure(context={"cleanup@openstack": arguments.CLEANUP,
                             "keypair@openstack": {},
                             "allow_ssh@openstack": None},
                    name="KVMPerf.fio", platform="openstack")
class Fio(utils.KVMPerfScenario):
    """fio in 1..N instances at once (see run())."""

    TOOLS = ("fio",)

    @arguments.sweep_doc(tools="fio", packages="fio")
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
            fio_directory: str = "/var/tmp",
            fio_jobs: t.Optional[t.List[str]] = None,
            fio_size_mb: int = fio.DEFAULTS["size_mb"],
            fio_runtime: int = fio.DEFAULTS["runtime"],
            fio_ramp_time: int = fio.DEFAULTS["ramp_time"],
            fio_iodepth: int = fio.DEFAULTS["iodepth"],
            fio_ioengine: str = fio.DEFAULTS["ioengine"],
            fio_extra_args: t.Optional[t.List[str]] = None) -> None:
        """fio in 1, 2, ... N instances at the same time, vs the host.

        The sweep of KVMPerf.bonnie with fio's standard jobs, one after the
        other on one file with O_DIRECT (the disk, not the page cache) and
        a fixed duration: 4 KiB random read and write (IOPS) and 1 MiB
        sequential read and write (bandwidth), each with its mean latency,
        completion-latency percentiles (50, 99, 99.9) and CPU use. Boots
        ``instances`` servers once; for each number k in ``active_counts``
        and each repetition, fio starts in the first k instances together.
        Every metric is reported per level with the repetition as the unit,
        its 95% interval and, with a host baseline taken with the same fio
        parameters (``rally-kvm-perf baseline --fio`` or the
        kvm_perf_baseline context's ``fio``), as a VM/host ratio. One
        instance failing does not discard the others' results. Every server
        and floating IP is deleted at the end.

        @SWEEP_PARAMS@
        :param fio_directory: directory in the instances fio's test file
            is written to (on the instance's disk)
        :param fio_jobs: the jobs to run, in order, from "randread",
            "randwrite", "seqread", "seqwrite" (default all four)
        :param fio_size_mb: size of the test file in MiB (O_DIRECT: it need
            not exceed the RAM)
        :param fio_runtime: seconds each job is measured
        :param fio_ramp_time: seconds each job runs before it is measured
        :param fio_iodepth: I/Os in flight per job
        :param fio_ioengine: fio I/O engine (libaio; io_uring, psync, ...)
        :param fio_extra_args: further global fio options, e.g.
            ["--numjobs=2"]; the host baseline must use the same
        """
        options = params.FioParams(
            directory=fio_directory, jobs=fio.parse_jobs(fio_jobs),
            size_mb=fio_size_mb, runtime=fio_runtime,
            ramp_time=fio_ramp_time, iodepth=fio_iodepth,
            ioengine=fio_ioengine, extra_args=tuple(fio_extra_args or ()))
        options.argv()  # a bad option fails before anything boots
        self._sweep(FioWork(options), **arguments.sweep_args(locals()))


@dataclasses.dataclass(frozen=True)
class FioWork:
    """fio in the instances, with its options (the same as a host
    baseline's)."""

    options: params.FioParams

    def benchmarks(self, flavor_ram_mb, peers=None, watched=None):
        # as root (sudo for other users): the same privileges as on the host
        return [engine.Benchmark(outputs.FIO, self.options.argv(),
                                 as_root=True)]

    def wanted(self, flavor_ram_mb):
        return params.Wanted(fio=self.options)
