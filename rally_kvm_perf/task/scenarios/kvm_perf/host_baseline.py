"""KVMPerf.host_baseline: the physical side of every VM/host ratio, as a Rally
workload (no cloud needed)."""

import typing as t

from rally.task import atomic
from rally.task import scenario
from rally.task import validation

from rally_kvm_perf import exceptions
from rally_kvm_perf import opts
from rally_kvm_perf.host import baseline
from rally_kvm_perf.task import baseline_charts
from rally_kvm_perf.task import validators  # noqa: F401 (registers them)

CONF = opts.CONF


@validation.add("number", param_name="repetitions", minval=1,
                integer_only=True, nullable=True)
@validation.add("number", param_name="bonnie_size_mb", minval=1,
                integer_only=True, nullable=True)
@validation.add("number", param_name="bonnie_ram_mb", minval=1,
                integer_only=True, nullable=True)
@validation.add("number", param_name="duration", minval=1, integer_only=True,
                nullable=True)
@validation.add("number", param_name="message_size", minval=1,
                integer_only=True, nullable=True)
@validation.add("number", param_name="command_timeout", minval=1,
                integer_only=True, nullable=True)
@validation.add("kvm_perf_remote_host")
@scenario.configure(name="KVMPerf.host_baseline", platform="default")
class HostBaseline(scenario.Scenario):
    """The physical host baseline (see run() for the description)."""

    UNREPORTED_ARGS = ()   # task/reportable.py: every argument may be shown

    def run(self,
            host: t.Optional[str] = None,
            ssh_key_file: t.Optional[str] = None,
            repetitions: t.Optional[int] = None,
            bonnie_directory: t.Optional[str] = None,
            bonnie_size_mb: t.Optional[int] = None,
            bonnie_ram_mb: t.Optional[int] = None,
            bonnie_files: t.Union[int, str, None] = None,
            bonnie_fast: bool = False,
            bonnie_extra_args: t.Optional[t.List[str]] = None,
            force: bool = False,
            skip_bonnie: bool = False,
            netserver: t.Optional[str] = None,
            tests: t.Optional[t.List[t.Literal["TCP_STREAM", "UDP_STREAM",
                                               "TCP_RR"]]] = None,
            duration: t.Optional[int] = None,
            message_size: t.Optional[int] = None,
            skip_netperf: bool = False,
            drop_caches: bool = True,
            command_timeout: t.Optional[int] = None,
            output_file: t.Optional[str] = None) -> None:
        """Measure a physical host with bonnie++ and netperf, repeated N times.

        This is the denominator of every VM/host ratio of rally-kvm-perf: the
        same benchmarks the instances run, on the host itself. It needs no cloud:
        it runs on the Rally host, or on a compute host over SSH. Each iteration
        runs every benchmark ``repetitions`` times and reports mean, standard
        deviation, 95% confidence interval and coefficient of variation per
        metric, the raw samples, tool versions and host facts (including whether
        EPT/NPT is on). The baseline can also be written to a JSON file that
        later workloads load.

        :param host: ``[USER@]HOST[:PORT]`` of a host to measure over SSH;
            default: the machine Rally runs on
        :param ssh_key_file: private key for ``host`` (default
            ``[kvm_perf] ssh_key_file``)
        :param repetitions: runs of each benchmark (default
            ``[kvm_perf] repetitions``, 10)
        :param bonnie_directory: directory bonnie++ tests (default
            ``[kvm_perf] bonnie_directory``, the one backing instance disks)
        :param bonnie_size_mb: bonnie++ file size in MiB (default twice the
            host's RAM)
        :param bonnie_ram_mb: RAM size bonnie++ is told (default the host's)
        :param bonnie_files: bonnie++ ``-n`` (0 skips the file tests)
        :param bonnie_fast: bonnie++ ``-f``: skip the per-char tests
        :param bonnie_extra_args: further bonnie++ arguments, e.g. ["-D"]
            (O_DIRECT); the instances must use the same
        :param force: allow a bonnie++ size below twice the RAM
        :param skip_bonnie: do not run bonnie++
        :param netserver: ``HOST[:PORT]`` netserver to measure against; it
            must be the target the instances use. Default (local host only):
            a private netserver on a free loopback port
        :param tests: netperf tests, any of TCP_STREAM, UDP_STREAM, TCP_RR
            (default all three)
        :param duration: seconds per netperf test (default
            ``[kvm_perf] netperf_duration``)
        :param message_size: netperf send size of the stream tests (bytes)
        :param skip_netperf: do not run netperf
        :param drop_caches: drop the page caches before each bonnie++ run
        :param command_timeout: seconds one benchmark command may run
        :param output_file: also write the baseline JSON here
        """
        conf = CONF.kvm_perf
        params = baseline.make_params(
            conf, runs=repetitions, bonnie_options=None if skip_bonnie else {
                "directory": bonnie_directory, "size_mb": bonnie_size_mb,
                "ram_mb": bonnie_ram_mb, "files": bonnie_files,
                "fast": bonnie_fast, "force": force,
                "extra_args": bonnie_extra_args},
            netperf_options=None if skip_netperf else {
                "netserver": netserver, "tests": tests, "duration": duration,
                "message_size": message_size},
            drop_caches=drop_caches, timeout=command_timeout)
        runner = baseline.make_runner(conf, host, ssh_key_file)
        try:
            doc = baseline.measure(
                runner, params, output_path=output_file,
                timer=lambda name: atomic.ActionTimer(self, name))
        except exceptions.KVMPerfError as e:
            document = getattr(e, "document", None)
            if document is not None:
                self._report(document)  # keep what was measured
            raise
        finally:
            runner.close()
        self._report(doc)

    def _report(self, doc):
        for additive in baseline_charts.baseline_additive(doc):
            self.add_output(additive=additive)
        for complete in baseline_charts.baseline_complete(doc):
            self.add_output(complete=complete)
