"""Whatever text they get, the parsers raise ParseError or return a result:
never another exception type (the public contract)."""

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from rally_kvm_perf import exceptions
from rally_kvm_perf.benchmarks import bonnie
from rally_kvm_perf.benchmarks import netperf
from tests.conftest import read_fixture

REAL = [read_fixture("bonnie", "2.00a-full.csv"),
        read_fixture("bonnie", "1.96-public.csv"),
        read_fixture("bonnie", "1.03e-public.csv"),
        read_fixture("netperf", "udp_stream.txt"),
        read_fixture("netperf", "tcp_rr-omni-k.txt"),
        read_fixture("netperf", "tcp_rr-omni-csv.txt"),
        read_fixture("netperf", "tcp_stream-confidence.txt")]
TOKENS = st.sampled_from(
    [",", "+++++", "+++", "us", "ms", "s", "1.98", "1.96", "2.00a", "\n",
     "=", "MIGRATED TCP STREAM TEST from x", "UDP STREAM TEST", "10^6bits/sec",
     "KBytes/sec", "!!! WARNING", "Throughput", "-1", "nan", "inf", "1e999",
     " ", "MEAN_LATENCY", "Minimum Latency Microseconds", "0", "12.5"])


def mutations():
    """Real outputs with a slice cut out, or tokens spliced in."""
    return st.builds(
        lambda text, cut, length, tokens: text[:cut] + "".join(tokens)
        + text[cut + length:],
        st.sampled_from(REAL), st.integers(0, 3000), st.integers(0, 200),
        st.lists(TOKENS, max_size=6))


def check(parse, text, *args):
    try:
        result = parse(text, *args)
    except exceptions.ParseError:
        return
    assert result


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=400), mutations()))
def test_bonnie_raises_only_parse_error(text):
    check(bonnie.parse, text)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=400), mutations()),
       st.sampled_from([None, "TCP_STREAM", "UDP_STREAM", "TCP_RR", "XYZ"]))
def test_netperf_raises_only_parse_error(text, test):
    check(netperf.parse, text, test)
