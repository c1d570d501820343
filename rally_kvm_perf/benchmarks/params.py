"""What each benchmark runs with: the parameters a sweep's instances and a
host baseline share, so that a baseline taken with other ones is refused
(host/baseline.differences).
"""

import dataclasses
import typing

from rally_kvm_perf import exceptions
from rally_kvm_perf.benchmarks import fio
from rally_kvm_perf.benchmarks import netperf


@dataclasses.dataclass
class BonnieParams:
    directory: str
    size_mb: int | None = None
    ram_mb: int | None = None
    files: str | None = None
    fast: bool = False
    force: bool = False
    user: str | None = None
    extra_args: tuple = ()


@dataclasses.dataclass
class NetperfParams:
    host: str | None = None  # None: a private netserver on loopback (local only)
    port: int = netperf.DEFAULT_PORT
    tests: tuple = netperf.TESTS
    duration: int = 60
    message_size: int | None = None
    confidence: tuple | None = None
    cpu: bool = False
    data_port: int | None = None


# fio's options are its parameters: one dataclass, owned by its module
FioParams = fio.Options


class Wanted(typing.NamedTuple):
    """The benchmark parameters a sweep's instances run (None: that tool
    is not run): what a host baseline must have measured alike."""
    bonnie: BonnieParams | None = None
    netperf: NetperfParams | None = None
    fio: FioParams | None = None


@dataclasses.dataclass
class BaselineParams:
    runs: int = 10
    bonnie: BonnieParams | None = None
    netperf: NetperfParams | None = None
    fio: FioParams | None = None
    drop_caches: bool = True
    timeout: int = 4 * 3600

    def validate(self) -> None:
        if isinstance(self.runs, bool) or not isinstance(self.runs, int) \
                or self.runs < 1:
            raise exceptions.InvalidArgument(
                "runs must be a whole number >= 1, got %r" % (self.runs,))
        if self.bonnie is None and self.netperf is None and self.fio is None:
            raise exceptions.InvalidArgument(
                "nothing to measure: bonnie++, fio and netperf are all "
                "disabled")
        if self.fio is not None:
            self.fio.argv()  # InvalidArgument naming what is wrong
        if self.netperf is not None:
            for test in self.netperf.tests:
                if test not in netperf.TESTS:
                    raise exceptions.InvalidArgument(
                        "netperf test must be one of %s, got %r"
                        % (", ".join(netperf.TESTS), test))
