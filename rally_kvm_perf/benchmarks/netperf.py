"""netperf 2.7.0: command builder and output parser (pure functions, no I/O).

Parsed output forms:

* classic tables (``TCP_STREAM``; ``UDP_STREAM`` prints a send line, then a
  receive line: the receive line is what reached the peer and is
  ``throughput_mbps``; ``TCP_RR``), with or without ``-c/-C`` CPU columns;
* ``-P 0`` terse output (no banner: pass ``test``; throughput is taken to be
  in netperf's default unit, 10^6 bit/s);
* omni CSV (``-- -o SELECTORS``: a header line of titles, then values);
* omni key=value (``-- -k SELECTORS``);
* the "Desired confidence was not achieved" warning of ``-I/-i`` runs, which
  is reported in ``confidence`` and ``warnings``, never swallowed.

Throughput is normalised to 10^6 bit/s whatever ``-f`` unit was printed
(netperf's K/M/G Bytes are powers of 1024, its 10^n bits powers of 10).
CPU utilisation netperf did not measure (-1) is ``None``.
"""

from collections.abc import Sequence
import dataclasses
import math
import re

from rally_kvm_perf import exceptions
from rally_kvm_perf import metrics
from rally_kvm_perf.benchmarks import netperf_classic

BINARY = "netperf"
TESTS = ("TCP_STREAM", "UDP_STREAM", "TCP_RR")
DEFAULT_PORT = 12865

METRIC_KEYS = tuple(m.name for m in metrics.NETPERF_METRICS)

# omni selectors we ask for in TCP_RR runs (latency percentiles need omni)
RR_SELECTORS = (
    "MIN_LATENCY", "MEAN_LATENCY", "P50_LATENCY", "P90_LATENCY",
    "P99_LATENCY", "MAX_LATENCY", "STDDEV_LATENCY", "TRANSACTION_RATE",
    "ELAPSED_TIME", "LOCAL_CPU_UTIL", "REMOTE_CPU_UTIL",
    "LOCAL_CPU_COUNT", "REMOTE_CPU_COUNT", "LOCAL_SD", "REMOTE_SD",
    "SD_UNITS",
    "CONFIDENCE_LEVEL", "CONFIDENCE_ITERATION", "THROUGHPUT_CONFID",
)

# omni selector -> metric key
_SELECTOR_METRICS = {
    "MIN_LATENCY": "latency_min_us", "MEAN_LATENCY": "latency_mean_us",
    "P50_LATENCY": "latency_p50_us", "P90_LATENCY": "latency_p90_us",
    "P99_LATENCY": "latency_p99_us", "MAX_LATENCY": "latency_max_us",
    "STDDEV_LATENCY": "latency_stddev_us",
    "TRANSACTION_RATE": "transactions_per_s", "ELAPSED_TIME": "elapsed_s",
    "LOCAL_CPU_UTIL": "local_cpu_pct", "REMOTE_CPU_UTIL": "remote_cpu_pct",
}
# titles netperf prints as the omni CSV (-o) header -> selector
_TITLE_SELECTORS = {
    "Minimum Latency Microseconds": "MIN_LATENCY",
    "Mean Latency Microseconds": "MEAN_LATENCY",
    "50th Percentile Latency Microseconds": "P50_LATENCY",
    "90th Percentile Latency Microseconds": "P90_LATENCY",
    "99th Percentile Latency Microseconds": "P99_LATENCY",
    "Maximum Latency Microseconds": "MAX_LATENCY",
    "Stddev Latency Microseconds": "STDDEV_LATENCY",
    "Transaction Rate Tran/s": "TRANSACTION_RATE",
    "Elapsed Time (sec)": "ELAPSED_TIME",
    "Local CPU Util %": "LOCAL_CPU_UTIL",
    "Remote CPU Util %": "REMOTE_CPU_UTIL",
    "Local CPU Count": "LOCAL_CPU_COUNT",
    "Remote CPU Count": "REMOTE_CPU_COUNT",
    "Local Service Demand": "LOCAL_SD",
    "Remote Service Demand": "REMOTE_SD",
    "Service Demand Units": "SD_UNITS",
    "Throughput": "THROUGHPUT",
    "Throughput Units": "THROUGHPUT_UNITS",
    "Local Send Throughput": "LOCAL_SEND_THROUGHPUT",
    "Remote Recv Throughput": "REMOTE_RECV_THROUGHPUT",
    "Confidence Level Percent": "CONFIDENCE_LEVEL",
    "Confidence Iterations Run": "CONFIDENCE_ITERATION",
    "Throughput Confidence Width (%)": "THROUGHPUT_CONFID",
    "Local CPU Confidence Width (%)": "LOCAL_CPU_CONFID",
    "Remote CPU Confidence Width (%)": "REMOTE_CPU_CONFID",
}

_BANNER_RE = re.compile(
    r"^(?:MIGRATED )?(?P<kind>TCP|UDP) (?P<what>STREAM|MAERTS|"
    r"REQUEST/RESPONSE) TEST\b(?P<rest>.*)$")
_BANNER_TESTS = {("TCP", "STREAM"): "TCP_STREAM", ("UDP", "STREAM"): "UDP_STREAM",
                 ("TCP", "MAERTS"): "TCP_MAERTS",
                 ("TCP", "REQUEST/RESPONSE"): "TCP_RR",
                 ("UDP", "REQUEST/RESPONSE"): "UDP_RR"}
_CONF_REQ_RE = re.compile(r"\+/-\s*([\d.]+)%\s*@\s*(\d+)% conf")
_CONF_WARN_RE = re.compile(r"^!!!\s+(?:Confidence intervals:)?\s*"
                           r"(Throughput|Local CPU util|Remote CPU util)"
                           r"\s*:\s*([\d.]+)%")
_KV_RE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")
_ERROR_MARKERS = ("establish_control", "establish control",
                  "could not establish", "recv_response: partial response",
                  "Connection refused", "netperf: send_", "netperf: receive_")


def parse(text: str, test: str | None = None) -> dict:
    """Parse one netperf run's output.

    :param text: netperf stdout (stderr may be appended)
    :param test: ``"TCP_STREAM"``, ``"UDP_STREAM"``, ``"TCP_RR"``...; needed
        only when the output has no banner (``-P 0``). When both are there
        they must agree.
    :returns: dict with every key of METRIC_KEYS (float or None) plus
        ``test``, ``units`` (as printed), ``confidence`` (``requested``,
        ``achieved``, ``intervals_pct``), ``warnings`` (list of str) and, for
        UDP_STREAM, ``send_messages``/``recv_messages``.
    :raises ParseError: naming the offending line, on malformed input.
    """
    if not isinstance(text, str):
        raise exceptions.ParseError(
            "netperf output must be text, got %s" % type(text).__name__)
    lines = [ln.rstrip() for ln in text.splitlines()]
    for line in lines:
        if any(marker in line for marker in _ERROR_MARKERS):
            raise exceptions.ParseError(
                "netperf failed, not a result: %r" % line.strip())
    result: dict = {key: None for key in METRIC_KEYS}
    result.update({"test": None, "units": None, "warnings": [],
                   "confidence": {"requested": None, "achieved": None,
                                  "intervals_pct": {}}})
    body = _scan(lines, result)
    banner_test = result["test"]
    _resolve_test(result, test, text)
    if not body:
        raise exceptions.ParseError(
            "netperf output has no result lines: %s" % exceptions.excerpt(text))
    if all(_KV_RE.match(line) for line in body):
        _parse_omni_kv(body, result)
    elif "," in body[0] and len(body) >= 2 and _is_omni_header(body[0]):
        _parse_omni_csv(body, result)
    else:
        netperf_classic.parse(body, result, banner_test is not None)
    if result["confidence"]["requested"] is not None \
            and result["confidence"]["achieved"] is None:
        result["confidence"]["achieved"] = True
    return result


def _scan(lines, result):
    """The banner (test, requested confidence) and the warnings into
    ``result``; the other non-blank lines returned: the result body."""
    body = []
    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        banner = _BANNER_RE.match(stripped)
        if banner and result["test"] is None:
            result["test"] = _BANNER_TESTS[(banner.group("kind"),
                                            banner.group("what"))]
            conf = _CONF_REQ_RE.search(banner.group("rest"))
            if conf:
                result["confidence"]["requested"] = {
                    "interval_pct": float(conf.group(1)),
                    "level_pct": float(conf.group(2))}
            continue
        if stripped.startswith("!!!"):
            _parse_warning(stripped, result)
            continue
        body.append(stripped)
    return body


def _resolve_test(result, test, text):
    """The test is the banner's, or the one given; both must agree."""
    if test is not None:
        test = str(test).upper()
        if result["test"] is not None and result["test"] != test:
            raise exceptions.ParseError(
                "netperf output is a %s test, but %s was expected"
                % (result["test"], test))
        result["test"] = test
    if result["test"] is None:
        raise exceptions.ParseError(
            "netperf output has no test banner and no test was given: %s"
            % exceptions.excerpt(text))


def _parse_warning(line, result):
    conf = result["confidence"]
    if "Desired confidence was not achieved" in line:
        conf["achieved"] = False
        result["warnings"].append(
            "netperf: desired confidence was not achieved within the "
            "specified iterations")
    match = _CONF_WARN_RE.match(line)
    if match:
        key = {"Throughput": "throughput", "Local CPU util": "local_cpu",
               "Remote CPU util": "remote_cpu"}[match.group(1)]
        conf["intervals_pct"][key] = float(match.group(2))


def _is_omni_header(line):
    return any(cell.strip() in _TITLE_SELECTORS for cell in line.split(","))


def _parse_omni_kv(body, result):
    values = {}
    for line in body:
        key, value = _KV_RE.match(line).groups()
        values[key] = value.strip()
    _apply_omni(values, result, "omni key=value output")


def _parse_omni_csv(body, result):
    header = [c.strip() for c in body[0].split(",")]
    row = [c.strip() for c in body[1].split(",")]
    if len(row) != len(header):
        raise exceptions.ParseError(
            "malformed netperf omni CSV: %d titles but %d values in %r"
            % (len(header), len(row), body[1]))
    if len(body) > 2:
        raise exceptions.ParseError(
            "malformed netperf omni CSV: unexpected line %r" % body[2])
    values = {_TITLE_SELECTORS.get(title, title): value
              for title, value in zip(header, row)}
    _apply_omni(values, result, "omni CSV line %r" % body[1])


def _apply_omni(values, result, where):
    def number(key: str) -> float | None:
        raw = values[key]
        try:
            value = float(raw)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value):
            raise exceptions.ParseError(
                "netperf %s: %s is %r, not a number" % (where, key, raw))
        return value

    for selector, key in _SELECTOR_METRICS.items():
        if selector in values:
            value = number(selector)
            if key.endswith("_cpu_pct") and value < 0:
                value = None
            result[key] = value
    _omni_cpu(values, result, number)
    if "THROUGHPUT" in values and result["test"] not in ("TCP_RR", "UDP_RR"):
        _omni_throughput(values, result, number)
    if "THROUGHPUT_CONFID" in values:
        width = number("THROUGHPUT_CONFID")
        if width >= 0:
            result["confidence"]["intervals_pct"]["throughput"] = width
    if "CONFIDENCE_LEVEL" in values and number("CONFIDENCE_LEVEL") > 0 \
            and result["confidence"]["requested"] is None:
        result["confidence"]["requested"] = {
            "interval_pct": None, "level_pct": number("CONFIDENCE_LEVEL")}
    _check_omni_confidence(result)
    if not any(result[key] is not None for key in METRIC_KEYS):
        raise exceptions.ParseError(
            "netperf %s holds none of the expected values (%s)"
            % (where, ", ".join(sorted(values))))


def _omni_cpu(values, result, number):
    """CPU counts (0 where netperf measured no CPU) and service demand, per
    KB or per transaction as SD_UNITS says (-1: not measured)."""
    for side in ("LOCAL", "REMOTE"):
        key = "%s_CPU_COUNT" % side
        if key in values:
            result["%s_cpu_count" % side.lower()] = number(key) or None
        key = "%s_SD" % side
        if key not in values:
            continue
        units = values.get("SD_UNITS") or (
            "usec/Tran" if result["test"] in ("TCP_RR", "UDP_RR")
            else "usec/KB")
        per = {"usec/KB": "kb", "usec/Tran": "tran"}.get(units)
        if per is None:
            raise exceptions.ParseError(
                "netperf service demand in unknown units %r" % units)
        value = number(key)
        result["%s_sd_us_per_%s" % (side.lower(), per)] = (
            value if value >= 0 else None)


def _omni_throughput(values, result, number):
    """A stream test's throughput in 10^6 bit/s: omni's THROUGHPUT is
    what the receiver got; the sender's is its own where printed."""
    units = values.get("THROUGHPUT_UNITS", "10^6bits/s")
    result["units"] = units
    factor = netperf_classic.throughput_factor(units)
    result["throughput_mbps"] = number("THROUGHPUT") * factor
    if "LOCAL_SEND_THROUGHPUT" in values:
        result["send_throughput_mbps"] = (
            number("LOCAL_SEND_THROUGHPUT") * factor)
    elif result["test"] == "TCP_STREAM":
        result["send_throughput_mbps"] = result["throughput_mbps"]


def _check_omni_confidence(result):
    """Omni output prints no warning: compare the width with the request.

    netperf reports the interval's full width in percent of the mean, while
    ``-I 99,5`` asks for +/-2.5%, i.e. a width of at most 5%.
    """
    conf = result["confidence"]
    width = conf["intervals_pct"].get("throughput")
    requested = conf["requested"]
    if width is None or not requested or requested["interval_pct"] is None:
        return
    if width > 2 * requested["interval_pct"]:
        conf["achieved"] = False
        result["warnings"].append(
            "netperf: desired confidence was not achieved: throughput "
            "interval width %.3f%% > %.3f%%"
            % (width, 2 * requested["interval_pct"]))


_HOST_RE = re.compile(r"^[A-Za-z0-9_.:%\[\]-]+$")


@dataclasses.dataclass(frozen=True)
class Options:
    """netperf's options (build_command).

    :param port: netserver control port (``-p``)
    :param duration: seconds (``-l``)
    :param message_size: send size in bytes for stream tests (``-- -m``)
    :param request_size: TCP_RR request bytes (``-- -r req,resp``)
    :param response_size: TCP_RR response bytes
    :param confidence: ``(level_pct, interval_pct)``, e.g. (99, 5) (``-I``)
    :param iterations: ``(max, min)`` iterations for confidence (``-i``)
    :param cpu: measure local and remote CPU (``-c -C``)
    :param data_port: fixed remote data port (``-- -P ,N``), for firewalls
        and security groups that open only known ports
    :param extra_args: further global options, passed as they are
    """
    port: int | None = None
    duration: int | None = None
    message_size: int | None = None
    request_size: int | None = None
    response_size: int | None = None
    confidence: Sequence[int] | None = None
    iterations: Sequence[int] | None = None
    cpu: bool = False
    data_port: int | None = None
    extra_args: Sequence[str] = ()


def build_command(test: str, host: str, options: Options | None = None,
                  binary: str = BINARY) -> list[str]:
    """Build a netperf argv list.

    :param test: TCP_STREAM, UDP_STREAM or TCP_RR
    :param host: netserver address (``-H``)
    :param options: the other options (Options)
    :returns: argv list; quote it with shlex.join() for a remote shell
    :raises InvalidArgument: naming the argument that is wrong
    """
    o = options or Options()
    test = str(test).upper()
    if test not in TESTS:
        raise exceptions.InvalidArgument(
            "netperf test must be one of %s, got %r" % (", ".join(TESTS), test))
    host = str(host)
    if not host or host.startswith("-") or not _HOST_RE.match(host):
        raise exceptions.InvalidArgument(
            "netperf host must be a host name or IP address, got %r" % host)
    argv = ([binary, "-H", host, "-t", test]
            + _global_options(o.port, o.duration, o.confidence, o.iterations,
                              o.cpu)
            + [str(a) for a in o.extra_args])
    specific = _test_options(test, o.message_size, o.request_size,
                             o.response_size, o.data_port)
    return argv + ["--"] + specific if specific else argv


def _global_options(port, duration, confidence, iterations, cpu):
    out = []
    if port is not None:
        out += ["-p", str(_int("port", port, 1, 65535))]
    if duration is not None:
        out += ["-l", str(_int("duration", duration, 1, 10 ** 6))]
    if confidence is not None:
        level, interval = _pair("confidence", confidence)
        if level not in (95, 99):
            raise exceptions.InvalidArgument(
                "netperf confidence level must be 95 or 99, got %r" % level)
        out += ["-I", "%d,%s" % (level, _fmt(interval))]
        if iterations is None:
            iterations = (10, 3)
    if iterations is not None:
        high, low = _pair("iterations", iterations)
        high = _int("iterations max", high, 1, 30)
        low = _int("iterations min", low, 1, high)
        out += ["-i", "%d,%d" % (high, low)]
    return out + (["-c", "-C"] if cpu else [])


def _test_options(test, message_size, request_size, response_size,
                  data_port):
    """The test-specific options (after ``--``)."""
    out = []
    if message_size is not None:
        if test == "TCP_RR":
            raise exceptions.InvalidArgument(
                "netperf message_size applies to stream tests, not TCP_RR; "
                "use request_size/response_size")
        out += ["-m", str(_int("message_size", message_size, 1, 65507
                               if test == "UDP_STREAM" else 2 ** 30))]
    if request_size is not None or response_size is not None:
        if test != "TCP_RR":
            raise exceptions.InvalidArgument(
                "netperf request_size/response_size apply to TCP_RR only")
        out += ["-r", "%d,%d" % (
            _int("request_size", request_size or 1, 1, 2 ** 24),
            _int("response_size", response_size or 1, 1, 2 ** 24))]
    if data_port is not None:
        out += ["-P", ",%d" % _int("data_port", data_port, 1, 65535)]
    if test == "UDP_STREAM":
        # netperf sets SO_DONTROUTE on UDP_STREAM unless told otherwise: a
        # netserver behind a router (an instance's gateway, the host's
        # netserver namespace) then fails with "Network is unreachable"
        out += ["-R", "1"]
    if test == "TCP_RR":
        out += ["-k", ",".join(RR_SELECTORS)]
    return out


def _int(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or value != int(value) or not low <= value <= high:
        raise exceptions.InvalidArgument(
            "netperf %s must be a whole number from %d to %d, got %r"
            % (name, low, high, value))
    return int(value)


def _pair(name, value):
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise exceptions.InvalidArgument(
            "netperf %s must be a pair of numbers, got %r" % (name, value))
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
            raise exceptions.InvalidArgument(
                "netperf %s must be a pair of positive numbers, got %r"
                % (name, value))
    return value[0], value[1]


def _fmt(number):
    return ("%g" % number)


def parse_netserver(target: str,
                    default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """'HOST[:PORT]' or '[v6]:PORT' -> (host, port)."""
    target = str(target).strip()
    if target.startswith("["):
        host, _, rest = target[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
    elif target.count(":") == 1:
        host, port = target.split(":")
    else:
        host, port = target, None
    if not host or host.startswith("-") or not _HOST_RE.match(host):
        raise exceptions.InvalidArgument(
            "netserver must be HOST[:PORT], got %r" % target)
    if port in (None, ""):
        return host, default_port
    try:
        number = int(port)
    except ValueError:
        raise exceptions.InvalidArgument(
            "netserver port must be a number, got %r" % target) from None
    return host, _int("netserver port", number, 1, 65535)
