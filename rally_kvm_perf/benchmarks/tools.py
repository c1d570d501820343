"""Where the benchmark tools live and which versions a machine has.

The one probe both sides run -- the host baseline on each compute host and
the sweep in each instance -- so that their versions compare: another
bonnie++, netperf or fio is another measure, and the results say so. The only
module under ``benchmarks/`` that runs anything, through the runner it is
given (local, SSH, an instance).
"""

import re
import typing as t

from rally_kvm_perf.benchmarks import bonnie
from rally_kvm_perf.benchmarks import fio
from rally_kvm_perf.benchmarks import netperf

# bonnie++ and netserver live in /usr/sbin on Debian, which is not on a
# normal user's PATH (the instances log in as one)
SBIN_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# tool -> (argv that prints its version, pattern of the version)
_PROBES = {
    bonnie.BINARY: (["env", SBIN_PATH, bonnie.BINARY, "-h"],
                    r"Version:\s*(\S+)"),
    netperf.BINARY: ([netperf.BINARY, "-V"], r"Netperf version\s+(\S+)"),
    fio.BINARY: ([fio.BINARY, "--version"], r"fio-(\d\S*)"),
}
# Debian package of each tool (what an error tells the user to install)
PACKAGES = {bonnie.BINARY: "bonnie++", netperf.BINARY: "netperf",
            fio.BINARY: "fio"}


def installed_argv(tool: str) -> list[str]:
    """argv that exits 0 when ``tool`` is on the (sbin-extended) PATH."""
    return ["env", SBIN_PATH, "sh", "-c", 'command -v "$0"', tool]


def parse_version(tool: str, text: str) -> str | None:
    """The version ``tool``'s probe printed, or None (not installed)."""
    match = re.search(_PROBES[tool][1], text)
    return match.group(1) if match else None


def versions(runner: t.Any) -> dict[str, str | None]:
    """{tool: version or None} of every benchmark tool on ``runner``."""
    found = {}
    for tool, (argv, _pattern) in _PROBES.items():
        res = runner.run(argv, timeout=30)
        found[tool] = parse_version(tool, res.stdout + res.stderr)
    return found
