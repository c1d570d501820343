import pytest

from rally_kvm_perf import exceptions
from rally_kvm_perf import metrics
from rally_kvm_perf.benchmarks import netperf
from tests.conftest import read_fixture


def parse(name, test=None):
    return netperf.parse(read_fixture("netperf", name), test)


def test_every_result_has_every_metric_key_with_a_direction():
    r = parse("tcp_stream.txt")
    for key in netperf.METRIC_KEYS:
        assert key in r
        assert metrics.get(key).better in (metrics.HIGHER, metrics.LOWER,
                                           metrics.NEUTRAL)
    assert metrics.get("throughput_mbps").better == metrics.HIGHER
    assert metrics.get("latency_p99_us").better == metrics.LOWER
    assert metrics.get("elapsed_s").better == metrics.NEUTRAL


def test_tcp_stream_classic():
    r = parse("tcp_stream.txt")
    assert r["test"] == "TCP_STREAM"
    assert r["throughput_mbps"] == 14380.55
    assert r["send_throughput_mbps"] == 14380.55
    assert r["elapsed_s"] == 1.0
    assert r["local_cpu_pct"] is None and r["remote_cpu_pct"] is None
    assert r["latency_mean_us"] is None and r["transactions_per_s"] is None
    assert r["warnings"] == [] and r["confidence"]["achieved"] is None


def test_tcp_stream_with_cpu_columns():
    r = parse("tcp_stream-cpu.txt")
    assert r["throughput_mbps"] == 15088.11
    assert r["local_cpu_pct"] == 58.44 and r["remote_cpu_pct"] == 58.44
    # the CPU a KB cost: what compares a 2-vCPU guest with a 64-CPU host
    assert (r["local_sd_us_per_kb"], r["remote_sd_us_per_kb"]) == (
        0.635, 0.635)


def test_service_demand_is_per_unit_of_work_and_the_shares_get_no_ratio():
    """netperf 2.7.0 on this machine, the sweep's own TCP_RR command with
    -c -C: service demand per transaction, the CPU counts beside the
    shares; classic tables give it per KB (streams) or per transaction."""
    r = parse("tcp_rr-omni-k-cpu.txt")
    assert (r["local_sd_us_per_tran"], r["remote_sd_us_per_tran"]) == (
        38.325, 38.325)
    assert (r["local_cpu_count"], r["remote_cpu_count"]) == (2, 2)
    assert r["local_sd_us_per_kb"] is None
    r = parse("tcp_rr-cpu.txt")
    assert r["local_sd_us_per_tran"] == 28.853
    r = parse("udp_stream-cpu.txt")
    assert (r["local_sd_us_per_kb"], r["remote_sd_us_per_kb"]) == (1.49, 1.49)
    # without -c/-C: no count (netperf's 0), no demand (its -1)
    r = parse("tcp_rr-omni-k-nocpu.txt")
    assert r["local_cpu_count"] is None and r["local_sd_us_per_tran"] is None
    for name in ("local_cpu_pct", "remote_cpu_pct", "local_cpu_count"):
        assert metrics.METRICS[name].better == metrics.NEUTRAL
    for name in ("local_sd_us_per_kb", "remote_sd_us_per_tran"):
        assert metrics.METRICS[name].better == metrics.LOWER


@pytest.mark.parametrize("name, expected", [
    ("tcp_stream-fg.txt", 14.15 * 1000),                    # 10^9bits/sec
    ("tcp_stream-fK.txt", 1867749.21 * 1024 * 8 / 1e6),     # KBytes/sec
])
def test_throughput_is_normalised_to_megabits(name, expected):
    assert parse(name)["throughput_mbps"] == pytest.approx(expected)


def test_udp_stream_receive_line_is_the_throughput():
    r = parse("udp_stream.txt")
    assert r["test"] == "UDP_STREAM"
    assert r["send_throughput_mbps"] == 8868.26
    assert r["throughput_mbps"] == 8724.27          # what reached the peer
    assert r["send_messages"] == 753143 and r["recv_messages"] == 740915


def test_udp_stream_megabytes_and_cpu():
    r = parse("udp_stream-fM.txt")
    assert r["throughput_mbps"] == pytest.approx(1026.22 * 2 ** 20 * 8 / 1e6)
    r = parse("udp_stream-cpu.txt")
    assert r["throughput_mbps"] == 8791.7
    assert r["local_cpu_pct"] == 80.49 and r["remote_cpu_pct"] == 80.49


def test_tcp_rr_classic_has_rate_but_no_latency():
    r = parse("tcp_rr.txt")
    assert r["test"] == "TCP_RR" and r["transactions_per_s"] == 17138.11
    assert r["latency_mean_us"] is None and r["throughput_mbps"] is None
    r = parse("tcp_rr-cpu.txt")
    assert r["transactions_per_s"] == 19057.40 and r["local_cpu_pct"] == 27.49


@pytest.mark.parametrize("name, test, key, value", [
    ("tcp_stream-P0.txt", "TCP_STREAM", "throughput_mbps", 14166.74),
    ("tcp_stream-P0-cpu.txt", "TCP_STREAM", "remote_cpu_pct", 65.63),
    ("udp_stream-P0.txt", "UDP_STREAM", "throughput_mbps", 8757.95),
    ("udp_stream-P0.txt", "udp_stream", "send_throughput_mbps", 9003.92),
    ("tcp_rr-P0.txt", "TCP_RR", "transactions_per_s", 17176.10),
])
def test_terse_output_needs_the_test_name(name, test, key, value):
    assert parse(name, test)[key] == value
    with pytest.raises(exceptions.ParseError) as e:
        parse(name)
    assert "no test banner" in str(e.value)


def test_tcp_rr_omni_key_value():
    r = parse("tcp_rr-omni-k.txt")
    assert r["test"] == "TCP_RR"
    assert (r["latency_min_us"], r["latency_mean_us"], r["latency_p50_us"],
            r["latency_p90_us"], r["latency_p99_us"], r["latency_max_us"],
            r["latency_stddev_us"]) == (18, 66.69, 67, 73, 98, 4111, 46.63)
    assert r["transactions_per_s"] == 14983.214 and r["elapsed_s"] == 1.0
    assert r["local_cpu_pct"] is None and r["remote_cpu_pct"] is None  # -1


def test_tcp_rr_omni_csv():
    r = parse("tcp_rr-omni-csv.txt")
    assert r["latency_p99_us"] == 122 and r["transactions_per_s"] == 20160.02
    r = parse("tcp_rr-omni-csv-all.txt")
    assert r["local_cpu_pct"] == 28.01 and r["latency_stddev_us"] == 18.87
    assert r["throughput_mbps"] is None  # RR "throughput" is Trans/s


def test_stream_omni_outputs():
    r = parse("tcp_stream-omni-k.txt")
    assert r["throughput_mbps"] == 15483.97 and r["units"] == "10^6bits/s"
    r = parse("udp_stream-omni-csv.txt")
    assert r["test"] == "UDP_STREAM" and r["throughput_mbps"] == 8718.60


def test_confidence_warning_is_reported_not_swallowed():
    r = parse("tcp_stream-confidence.txt")
    assert r["throughput_mbps"] == 13918.85
    assert r["confidence"]["requested"] == {"interval_pct": 2.5,
                                            "level_pct": 99.0}
    assert r["confidence"]["achieved"] is False
    assert r["confidence"]["intervals_pct"]["throughput"] == 34.526
    assert any("confidence was not achieved" in w for w in r["warnings"])


def test_omni_confidence_is_judged_from_the_interval_width():
    # omni output prints no warning; width 176% > the +/-2.5% requested
    r = parse("tcp_rr-omni-k-confidence.txt")
    assert r["confidence"]["achieved"] is False
    assert r["warnings"] and "176.076" in r["warnings"][0]


def test_confidence_met_is_reported_achieved():
    text = read_fixture("netperf", "tcp_rr-omni-k-confidence.txt").replace(
        "THROUGHPUT_CONFID=176.076", "THROUGHPUT_CONFID=3.1")
    r = netperf.parse(text)
    assert r["confidence"]["achieved"] is True and r["warnings"] == []


@pytest.mark.parametrize("text, test, message", [
    (read_fixture("netperf", "refused.txt"), None, "netserver listening"),
    ("", "TCP_STREAM", "no result lines"),
    ("garbage", None, "no test banner"),
    (read_fixture("netperf", "tcp_stream.txt").rsplit("\n", 2)[0], None,
     "no line of numbers"),                                   # truncated
    (read_fixture("netperf", "udp_stream.txt").strip().rsplit("\n", 1)[0],
     None, "no receive line"),                                # truncated
    (read_fixture("netperf", "tcp_stream.txt").replace(
        "10^6bits/sec", "furlongs"), None, "no throughput unit"),
    (read_fixture("netperf", "tcp_rr-omni-k.txt").replace("=67\n", "=abc\n"),
     None, "P50_LATENCY is 'abc'"),
    (read_fixture("netperf", "tcp_rr-omni-csv.txt").replace(",1.00", ""),
     None, "9 titles but 8 values"),
    (read_fixture("netperf", "tcp_rr-omni-csv-P0.txt"), "TCP_RR",
     "omni CSV without its title line"),
    (read_fixture("netperf", "tcp_stream.txt"), "UDP_STREAM",
     "TCP_STREAM test, but UDP_STREAM was expected"),
    ("131072  16384\n", "TCP_STREAM", "expected at least 5"),
    (read_fixture("netperf", "tcp_rr-omni-k.txt").replace("=67\n", "=nan\n"),
     None, "P50_LATENCY is 'nan'"),
    (read_fixture("netperf", "tcp_stream.txt").replace("14380.55", "inf"),
     None, "no line of numbers"),
])
def test_malformed_or_failed_output_raises_parse_error(text, test, message):
    with pytest.raises(exceptions.ParseError) as e:
        netperf.parse(text, test)
    assert message in str(e.value)


@pytest.mark.parametrize("value", [None, b"x", 3.5])
def test_non_text_raises_parse_error_only(value):
    with pytest.raises(exceptions.ParseError):
        netperf.parse(value)


def test_build_tcp_stream():
    assert netperf.build_command("TCP_STREAM", "10.0.0.5", netperf.Options(
        port=12865, duration=60)) == [
        "netperf", "-H", "10.0.0.5", "-t", "TCP_STREAM", "-p", "12865",
        "-l", "60"]


def test_build_udp_stream_with_message_size_confidence_and_data_port():
    argv = netperf.build_command("udp_stream", "host-a", netperf.Options(
        duration=30, message_size=1472, confidence=(99, 5), cpu=True,
        data_port=12866))
    # -R 1: routed netservers too (netperf's UDP default is SO_DONTROUTE)
    assert argv == ["netperf", "-H", "host-a", "-t", "UDP_STREAM", "-l", "30",
                    "-I", "99,5", "-i", "10,3", "-c", "-C", "--", "-m",
                    "1472", "-P", ",12866", "-R", "1"]


def test_build_tcp_rr_asks_for_latency_percentiles():
    argv = netperf.build_command("TCP_RR", "::1", netperf.Options(
        duration=10, request_size=64, response_size=1024))
    assert argv[-4:-2] == ["-r", "64,1024"]
    assert argv[-2] == "-k"
    for selector in ("P50_LATENCY", "P90_LATENCY", "P99_LATENCY",
                     "MEAN_LATENCY", "TRANSACTION_RATE"):
        assert selector in argv[-1]


@pytest.mark.parametrize("kwargs, message", [
    ({"test": "TCP_CRR", "host": "h"}, "test must be one of"),
    ({"test": "TCP_STREAM", "host": "-Hx"}, "host"),
    ({"test": "TCP_STREAM", "host": "a;rm -rf /"}, "host"),
    ({"test": "TCP_STREAM", "host": "h", "port": 70000}, "port"),
    ({"test": "TCP_STREAM", "host": "h", "duration": 0}, "duration"),
    ({"test": "TCP_RR", "host": "h", "message_size": 10}, "stream tests"),
    ({"test": "UDP_STREAM", "host": "h", "message_size": 70000},
     "message_size"),
    ({"test": "TCP_STREAM", "host": "h", "confidence": (90, 5)}, "95 or 99"),
    ({"test": "TCP_STREAM", "host": "h", "confidence": 99}, "pair"),
    ({"test": "TCP_STREAM", "host": "h", "request_size": 1}, "TCP_RR only"),
])
def test_build_rejects_bad_arguments(kwargs, message):
    with pytest.raises(exceptions.InvalidArgument) as e:
        test, host = kwargs.pop("test"), kwargs.pop("host")
        netperf.build_command(test, host, netperf.Options(**kwargs))
    assert message in str(e.value)


@pytest.mark.parametrize("target, expected", [
    ("10.1.2.3", ("10.1.2.3", 12865)),
    ("10.1.2.3:5001", ("10.1.2.3", 5001)),
    ("[fe80::1]:5001", ("fe80::1", 5001)),
    ("fe80::1", ("fe80::1", 12865)),
    ("netserver.example", ("netserver.example", 12865)),
])
def test_parse_netserver(target, expected):
    assert netperf.parse_netserver(target) == expected


@pytest.mark.parametrize("target", ["", "h:x", "h:0", "-h", "a b"])
def test_parse_netserver_rejects(target):
    with pytest.raises(exceptions.InvalidArgument):
        netperf.parse_netserver(target)
