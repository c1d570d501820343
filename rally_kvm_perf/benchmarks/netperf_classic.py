"""netperf's classic result tables (no omni selectors): TCP_STREAM,
UDP_STREAM's send line then its receive line (what reached the peer:
``throughput_mbps``), TCP_RR; with or without ``-c/-C`` CPU columns, with
or without their header (``-P 0``). Pure; netperf.parse calls it.
"""

import math
import re

from rally_kvm_perf import exceptions

_UNIT_RE = re.compile(r"^(?:10\^(\d+))?bits/s(?:ec)?$|^([KMG]?)Bytes/s(?:ec)?$")


def throughput_factor(units: str) -> float:
    """Factor turning a throughput in ``units`` into 10^6 bit/s."""
    match = _UNIT_RE.match(units.strip())
    if not match:
        raise exceptions.ParseError(
            "unknown netperf throughput unit %r" % units)
    if match.group(2) is not None:
        power = {"": 0, "K": 1, "M": 2, "G": 3}[match.group(2)]
        return 8.0 * 1024 ** power / 1e6
    return 10.0 ** (int(match.group(1) or 0) - 6)


def _data_rows(body):
    """Lines made only of (finite) numbers, with their numbers."""
    rows = []
    for line in body:
        try:
            numbers = [float(c) for c in line.split()]
        except ValueError:
            continue
        if all(math.isfinite(n) for n in numbers):
            rows.append((line, numbers))
    return rows


def _header_units(body):
    for line in body:
        for cell in line.split():
            if _UNIT_RE.match(cell):
                return cell
    return None


def parse(body: list[str], result: dict, has_banner: bool) -> None:
    """The result lines ``body`` of a classic table into ``result`` (whose
    "test" is known): the numbers' positions are the test's."""
    test = result["test"]
    rows = _data_rows(body)
    if not rows and "," in body[-1]:
        raise exceptions.ParseError(
            "netperf output %r looks like omni CSV without its title line "
            "(-P 0 with -o): its columns cannot be mapped; drop -P 0"
            % body[-1])
    if not rows:
        raise exceptions.ParseError(
            "netperf %s output has no line of numbers: %r" % (test, body[-1]))
    units = _header_units(body)
    if units is None:
        if has_banner and test in ("TCP_STREAM", "UDP_STREAM", "TCP_MAERTS"):
            raise exceptions.ParseError(
                "netperf %s output has no throughput unit in its header "
                "(truncated?): %r" % (test, body[-1]))
        units = "10^6bits/s"  # -P 0 prints none; netperf's default -f m
    if test in ("TCP_STREAM", "TCP_MAERTS"):
        _classic_tcp_stream(rows, result, units)
    elif test == "UDP_STREAM":
        _classic_udp_stream(rows, result, units)
    elif test in ("TCP_RR", "UDP_RR"):
        _classic_rr(rows, result)
    else:
        raise exceptions.ParseError("netperf test %s is not supported" % test)


def _cpu(value):
    """A CPU figure; netperf prints -1 where it measured none."""
    return None if value < 0 else value


def _need(row, count, what):
    line, numbers = row
    if len(numbers) < count:
        raise exceptions.ParseError(
            "malformed netperf %s line (%d numbers, expected at least %d): %r"
            % (what, len(numbers), count, line))
    return numbers


def _classic_tcp_stream(rows, result, units):
    # recv_sock send_sock msg_size elapsed throughput [lcpu rcpu sdl sdr]
    n = _need(rows[0], 5, "TCP_STREAM result")
    result["units"] = units
    result["elapsed_s"] = n[3]
    result["throughput_mbps"] = n[4] * throughput_factor(units)
    result["send_throughput_mbps"] = result["throughput_mbps"]
    if len(n) >= 7:
        result["local_cpu_pct"], result["remote_cpu_pct"] = _cpu(n[5]), _cpu(n[6])
    if len(n) >= 9:   # service demand, us of CPU per KB
        result["local_sd_us_per_kb"] = _cpu(n[7])
        result["remote_sd_us_per_kb"] = _cpu(n[8])


def _classic_udp_stream(rows, result, units):
    # send: sock msg_size elapsed okay errors throughput [cpu sd]
    # recv: sock elapsed okay throughput [cpu sd]
    if len(rows) < 2:
        raise exceptions.ParseError(
            "netperf UDP_STREAM output has no receive line after the send "
            "line (truncated?): %r" % rows[0][0])
    send = _need(rows[0], 6, "UDP_STREAM send")
    recv = _need(rows[1], 4, "UDP_STREAM receive")
    factor = throughput_factor(units)
    result["units"] = units
    result["elapsed_s"] = send[2]
    result["send_messages"] = send[3]
    result["send_throughput_mbps"] = send[5] * factor
    result["recv_messages"] = recv[2]
    result["throughput_mbps"] = recv[3] * factor
    if len(send) >= 7:
        result["local_cpu_pct"] = _cpu(send[6])
    if len(send) >= 8:
        result["local_sd_us_per_kb"] = _cpu(send[7])
    if len(recv) >= 5:
        result["remote_cpu_pct"] = _cpu(recv[4])
    if len(recv) >= 6:
        result["remote_sd_us_per_kb"] = _cpu(recv[5])


def _classic_rr(rows, result):
    # send_sock recv_sock req resp elapsed rate [lcpu rcpu sdl sdr]
    n = _need(rows[0], 6, "request/response result")
    result["elapsed_s"] = n[4]
    result["transactions_per_s"] = n[5]
    if len(n) >= 8:
        result["local_cpu_pct"], result["remote_cpu_pct"] = _cpu(n[6]), _cpu(n[7])
    if len(n) >= 10:  # service demand, us of CPU per transaction
        result["local_sd_us_per_tran"] = _cpu(n[8])
        result["remote_sd_us_per_tran"] = _cpu(n[9])
