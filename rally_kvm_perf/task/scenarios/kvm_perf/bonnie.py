"""KVMPerf.bonnie: bonnie++ in 1..N instances at once, vs the host."""

import typing as t

from rally.task import types
from rally.task import validation
from rally_openstack.common import consts
from rally_openstack.task import scenario

from rally_kvm_perf.benchmarks import bonnie
from rally_kvm_perf.benchmarks import outputs
from rally_kvm_perf.host import baseline
from rally_kvm_perf.sweep import engine
from rally_kvm_perf.task import validators  # noqa: F401 (registers them)
from rally_kvm_perf.task.scenarios.kvm_perf import utils


@types.convert(image={"type": "glance_image"}, flavor={"type": "nova_flavor"})
@validation.add("number", param_name="instances", minval=1, integer_only=True,
                nullable=True)
@validation.add("number", param_name="repetitions", minval=1,
                integer_only=True, nullable=True)
@validation.add("number", param_name="port", minval=1, maxval=65535,
                integer_only=True, nullable=True)
@validation.add("number", param_name="ssh_timeout", minval=1, nullable=True)
@validation.add("enum", param_name="between_repetitions",
                values=list(engine.BETWEEN), missed=True)
@validation.add("kvm_perf_active_counts")
@validation.add("enum", param_name="placement",
                values=list(utils.PLACEMENTS), missed=True)
@validation.add("required_param_or_context", param_name="flavor",
                ctx_name="kvm_perf_flavor")
@validation.add("external_network_exists", param_name="floating_network")
@validation.add("file_exists", param_name="host_baseline", required=False)
@validation.add("required_services", services=[consts.Service.NOVA])
@validation.add("required_platform", platform="openstack", users=True)
@validation.add("number", param_name="bonnie_size_mb", minval=1,
                integer_only=True, nullable=True)
@scenario.configure(context={"cleanup@openstack": utils.CLEANUP,
                             "keypair@openstack": {},
                             "allow_ssh@openstack": None},
                    name="KVMPerf.bonnie", platform="openstack")
class Bonnie(utils.KVMPerfScenario):
    """bonnie++ in 1..N instances at once (see run())."""

    TOOLS = ("bonnie++",)

    def run(self, image, flavor=None,
            instances: int = 10,
            active_counts: t.Optional[t.List[int]] = None,
            repetitions: int = 10,
            between_repetitions: str = "drop_caches",
            min_repetitions: t.Optional[int] = None,
            target_half_width: t.Optional[float] = None,
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

        :param image: glance image with bonnie++ and netperf installed
        :param flavor: flavor of the instances (the paper: 2 vCPU, 2 GB RAM,
            40 GB disk); default: the kvm_perf_flavor context's
        :param instances: instances booted once for the whole sweep
        :param active_counts: numbers of instances running the benchmark at
            the same time, e.g. [1, 2, 4, 8]; default 1..instances
        :param repetitions: runs per level (the paper: 10); with
            ``target_half_width`` the most a level runs
        :param min_repetitions: adaptive repetitions: the fewest a level
            runs before its interval is judged (default 3)
        :param target_half_width: adaptive repetitions: a level stops
            repeating once every benchmark's headline metric (block write,
            throughput, transactions) has a 95% interval within this
            fraction of its mean (0.05: +-5%), over the repetition-level
            values; the notes say how many runs each level took and why it
            stopped. Default: every level runs ``repetitions``
        :param between_repetitions: before each run: "drop_caches" (default;
            sync and drop the page caches in the active instances),
            "reboot" (the paper's choice: reboot them and wait for SSH; not
            before the first run) or "none"
        :param username: SSH user of the image
        :param password: SSH password, if the image needs one
        :param port: SSH port
        :param use_floating_ip: reach instances through floating IPs
        :param floating_network: external network for the floating IPs
        :param ssh_timeout: seconds an instance may take to answer SSH
        :param command_timeout: seconds one benchmark run may take (default
            ``[kvm_perf] command_timeout``; Rally's 3600 s SSH limit does not
            apply)
        :param availability_zone: e.g. "nova:compute-1" to pack every
            instance on one hypervisor, as in the paper
        :param placement: "same_host" (default: the paper's k instances on
            one host; a server group with the affinity policy), "spread"
            (one per compute host; anti-affinity) or "any" (the
            scheduler's choice); checked after the boot, before anything
            is measured (netperf's netserver peer: its peer_placement)
        :param install_command: shell command run in each instance before
            the sweep, e.g. "sudo apt-get install -y bonnie++ netperf"
        :param host_baseline: baseline JSON file from ``rally-kvm-perf
            baseline`` (taken with the same benchmark parameters); without
            it and without the kvm_perf_baseline context only absolute
            values are reported
        :param boot_kwargs: extra arguments for nova's server create
        :param output_file: also write everything measured (raw outputs,
            per-run metrics, the analysis) to this JSON file, rewritten
            after every run so that an interrupted sweep keeps what it
            measured
        :param resume: continue the interrupted sweep in ``output_file``:
            its finished runs are kept and not run again (on newly booted
            instances: a repetition stands on its own); a file of other
            parameters, or of a complete sweep, is refused before anything
            boots; without the file, a new sweep
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
        self.bonnie_options = {
            "directory": bonnie_directory, "size_mb": bonnie_size_mb,
            "files": bonnie_files, "fast": bonnie_fast, "force": force,
            "extra_args": list(bonnie_extra_args or [])}
        self._sweep(**utils.sweep_args(locals()))

    def _bonnie_argv(self, flavor_ram_mb, user=None):
        o = self.bonnie_options
        return bonnie.build_command(
            o["directory"], size_mb=o["size_mb"],
            machine_ram_mb=flavor_ram_mb, files=o["files"], user=user,
            fast=o["fast"], force=o["force"], extra_args=o["extra_args"])

    def _benchmarks(self, flavor_ram_mb, peer_ip):
        # as root (sudo for other users): the same privileges as on the
        # host, and bonnie++ then needs -u root
        return [engine.Benchmark(outputs.BONNIE,
                                 self._bonnie_argv(flavor_ram_mb, "root"),
                                 as_root=True)]

    def _baseline_params(self, flavor_ram_mb):
        argv = self._bonnie_argv(flavor_ram_mb)
        o = self.bonnie_options
        size = int(argv[argv.index("-s") + 1].split(":")[0])
        return baseline.Wanted(bonnie=baseline.BonnieParams(
            directory=o["directory"], size_mb=size,
            files=None if o["files"] is None else str(o["files"]),
            fast=o["fast"], extra_args=tuple(o["extra_args"])))
