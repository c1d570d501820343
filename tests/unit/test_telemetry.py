"""Contention telemetry: counters read before and after a run, the run's
means, per level with the repetition as the unit, saturation and knees.
The host snapshots are real (this machine with two TCG guests running,
3 s apart: tests/fixtures/telemetry)."""

import subprocess

import pytest

from rally_kvm_perf import telemetry
from rally_kvm_perf.sweep import timing
from tests.conftest import read_fixture


def _stat(user=0, nice=0, system=0, idle=0, iowait=0, irq=0, softirq=0,
          steal=0, cores=()):
    lines = ["cpu  %d %d %d %d %d %d %d %d 0 0" % (
        user, nice, system, idle, iowait, irq, softirq, steal)]
    for i, busy in enumerate(cores):
        lines.append("cpu%d %d 0 0 %d 0 0 0 0 0 0" % (i, busy, 1000 - busy))
    return "\n".join(lines) + "\n"


def _disk(name, ios, ticks, weighted, major=253, minor=0):
    # major minor name reads merged sectors ms writes merged sectors ms
    # in_flight io_ticks weighted
    return "%4d %7d %s %d 0 0 0 0 0 0 0 0 %d %d 0 0 0 0\n" % (
        major, minor, name, ios, ticks, weighted)


NET_HEAD = ("Inter-|   Receive                            |  Transmit\n"
            " face |bytes    packets errs drop fifo frame compressed "
            "multicast|bytes    packets errs drop fifo colls carrier "
            "compressed\n")


def _nic(name, rx_packets, rx_drop, tx_packets, tx_drop):
    return "%6s: 1000 %d 0 %d 0 0 0 0 2000 %d 0 %d 0 0 0 0\n" % (
        name, rx_packets, rx_drop, tx_packets, tx_drop)


def test_guest_means_over_a_run_are_the_counters_differences():
    before = (_stat(user=100, system=50, idle=800, iowait=40, steal=10)
              + _disk("vda", 1000, 5000, 9000) + _disk("vda1", 999, 4990,
                                                        8990, minor=1)
              + _disk("loop0", 0, 0, 0, major=7)
              + NET_HEAD + _nic("lo", 5, 0, 5, 0) + _nic("ens3", 100, 1, 200,
                                                         0))
    # 10 s later: 1000 ticks more, of which 200 user+system, 500 idle,
    # 200 iowait, 100 steal; the disk busy 7.5 s with 3 I/Os queued on
    # average; 5000 packets, 3 of them dropped
    after = (_stat(user=250, system=100, idle=1300, iowait=240, steal=110)
             + _disk("vda", 3000, 12500, 39000) + _disk(
                 "vda1", 2999, 12490, 38990, minor=1)
             + _disk("loop0", 50000, 9999, 9999, major=7)
             + NET_HEAD + _nic("lo", 99999, 0, 99999, 0)
             + _nic("ens3", 2100, 3, 3200, 1))
    u = telemetry.guest_usage(before, after, 10.0)
    assert u["guest_cpu_busy_pct"] == pytest.approx(20.0)
    assert u["guest_iowait_pct"] == pytest.approx(20.0)
    assert u["guest_steal_pct"] == pytest.approx(10.0)
    # the whole disk, not its partition, not a loop device
    assert u["guest_disk"] == "vda"
    assert u["guest_disk_util_pct"] == pytest.approx(75.0)
    assert u["guest_disk_queue"] == pytest.approx(3.0)
    # loopback is not the NIC under test
    assert u["guest_net_pps"] == pytest.approx(500.0)
    assert u["guest_net_drops"] == 3.0


def test_nvme_partitions_are_not_whole_disks():
    before = (_stat(idle=100) + _disk("nvme0n1", 0, 0, 0)
              + _disk("nvme0n1p1", 0, 0, 0))
    after = (_stat(idle=200) + _disk("nvme0n1", 10, 1000, 1000)
             + _disk("nvme0n1p1", 10, 1000, 1000))
    assert telemetry.guest_usage(before, after, 2.0)["guest_disk"] == \
        "nvme0n1"


def test_no_counters_no_figures():
    assert telemetry.guest_usage("", "", 5.0) is None
    assert telemetry.guest_usage(_stat(idle=1), _stat(idle=1), 5.0) is None
    assert telemetry.host_usage(_stat(idle=1), _stat(idle=9), 0) is None


def test_real_host_snapshots_with_two_qemu_guests():
    text0, [before] = telemetry.split(read_fixture("telemetry",
                                                   "host-before.txt"))
    text1, [after] = telemetry.split(read_fixture("telemetry",
                                                  "host-after-3s.txt"))
    assert text0 == text1 == ""
    snap = telemetry.parse(before)
    assert snap["clk_tck"] == 100 and len(snap["cores"]) == 2
    assert set(snap["qemu"]) == {"instance-00000001", "instance-00000002"}
    u = telemetry.host_usage(before, after, 3.0)
    assert 0 < u["host_cpu_busy_pct"] <= 100
    assert u["host_cpu_busy_pct"] <= u["host_cpu_max_core_pct"] <= 100
    assert u["host_disk"] == "vda"
    qemu = u["qemu_cpu_pct_by_domain"]
    # one guest was booting (a core's worth of TCG), the other idle; two
    # cores hold at most 200
    assert 50 < qemu["instance-00000001"] <= 100
    assert 0 <= qemu["instance-00000002"] < 5
    assert sum(qemu.values()) <= 2 * u["host_cpu_busy_pct"] + 5


def test_a_process_name_with_spaces_and_parentheses():
    stat = "4242 (qemu (x) y) S 1 2 3 0 -1 0 0 0 0 0 700 300 0 0 20 0 1 0 9"
    snap = telemetry.parse("CLK_TCK 100\nQEMU dom-1 %s\n" % stat)
    assert snap["qemu"] == {"dom-1": 1000}


def test_host_argv_reads_this_machines_counters_for_real():
    out = subprocess.run(telemetry.host_argv(["no-such-domain"]),
                         capture_output=True, text=True, check=True).stdout
    rest, [block] = telemetry.split(out)
    snap = telemetry.parse(block)
    assert snap["cpu"] and snap["disks"] and snap["clk_tck"] > 0
    assert snap["qemu"] == {}          # a domain without a pid file: none


def test_the_run_wrapper_reads_the_counters_around_the_benchmark():
    proc = subprocess.run(timing.timed(["sh", "-c", "echo out; echo err >&2;"
                                        " exit 3"]),
                          capture_output=True, text=True)
    assert proc.returncode == 3 and proc.stdout == "out\n"
    stderr, times = timing.split_times(proc.stderr)
    stderr, blocks = telemetry.split(stderr)
    assert stderr == "err\n"            # the benchmark's own stderr, intact
    assert len(blocks) == 2 and times[0] <= times[1]
    assert telemetry.parse(blocks[0])["cpu"]


def test_split_keeps_an_unfinished_block_as_text():
    text = "a\n%s\ncpu 1 2\n" % telemetry.BEGIN
    rest, blocks = telemetry.split(text)
    assert blocks == [] and rest == "a\ncpu 1 2\n"


def _run(level, rep, guests, host=None):
    return {"benchmark": "fio", "level": level, "repetition": rep,
            "instances": [{"telemetry": g} for g in guests],
            "host_telemetry": host or {}}


def test_level_means_take_the_repetition_as_the_unit():
    runs = [
        _run(2, 1, [{"guest_steal_pct": 10.0}, {"guest_steal_pct": 30.0}],
             {"h": {"host_cpu_busy_pct": 50.0,
                    "qemu_cpu_pct_by_domain": {"a": 40.0, "b": 60.0}}}),
        _run(2, 2, [{"guest_steal_pct": 40.0}, None],
             {"h": {"host_cpu_busy_pct": 70.0}}),
        _run(1, 1, [{"guest_steal_pct": 99.0}]),
    ]
    means = telemetry.level_means(runs, "fio", 2)
    # repetition 1: mean of its instances 20; repetition 2: 40 -> 30, n 2
    assert means["guest_steal_pct"] == (30.0, 2)
    assert means["host_cpu_busy_pct"] == (60.0, 2)
    assert means["qemu_cpu_pct"] == (50.0, 1)
    assert "guest_iowait_pct" not in means    # never read: not a zero


def test_netserver_means_come_from_its_own_counters_per_repetition():
    """netserver "peers": the netserver instances read in a repetition
    are averaged, then the repetitions; one whose counters failed counts
    as unread, never as zero."""
    runs = [dict(_run(2, 1, [{}]), netserver_telemetry={
                 "p1": {"guest_cpu_busy_pct": 80.0, "guest_steal_pct": 4.0},
                 "p2": {"guest_cpu_busy_pct": 60.0, "guest_steal_pct": 2.0}}),
            dict(_run(2, 2, [{}]), netserver_telemetry={
                 "p1": {"guest_cpu_busy_pct": 90.0, "guest_steal_pct": 9.0},
                 "p2": {"error": "p2: no counters (exit 255)"}})]
    means = telemetry.level_means(runs, "fio", 2)
    assert means["netserver_cpu_busy_pct"] == (80.0, 2)
    assert means["netserver_steal_pct"] == (6.0, 2)
    assert "netserver_cpu_busy_pct" not in telemetry.level_means(
        [_run(2, 1, [{}])], "fio", 2)


def test_saturation_names_the_first_resource_at_the_lowest_level():
    per_level = {1: {"host_cpu_busy_pct": 50.0},
                 2: {"host_disk_util_pct": 95.0, "guest_steal_pct": 25.0,
                     "host_iowait_pct": None},
                 3: {"host_cpu_busy_pct": 99.0}}
    key, threshold, what, level = telemetry.saturation(per_level)
    assert (key, level, threshold) == ("host_disk_util_pct", 2, 90.0)
    assert what == "the host's disk"
    assert telemetry.saturation({1: {"host_cpu_busy_pct": 89.9}}) is None


def test_knee_where_one_line_stops_describing_the_curve():
    flat = [(k, 1.0 + 0.01 * (-1) ** k) for k in range(1, 6)]
    falling = [(k, 0.6 - 0.2 * (k - 6)) for k in range(6, 11)]
    k = telemetry.knee(flat + falling)
    assert k["level"] == 6 and k["p_value"] < 0.001
    assert abs(k["slopes"][0]) < 0.02 and k["slopes"][1] == pytest.approx(-0.2)
    # a straight line with noise: no knee
    line = [(k, 1.0 - 0.05 * k + 0.01 * (-1) ** k) for k in range(1, 11)]
    assert telemetry.knee(line) is None
    # too few levels to tell
    assert telemetry.knee((flat + falling)[:4]) is None
    assert telemetry.knee([(1, None), (2, 1.0)]) is None


def test_a_netserver_saturated_before_its_clients_is_said():
    """netserver "peer": k clients share one netserver. Where its CPU
    (netperf's remote CPU) is saturated and the clients' is not, the
    ratio measures the netserver: the contention lines say so."""
    from rally_kvm_perf import contention

    def rows(remote, local):
        return [{"benchmark": "netperf:TCP_STREAM", "metric": m,
                 "active": k, "vm_mean": v, "vm_host_ratio": None}
                for m, per in (("remote_cpu_pct", remote),
                               ("local_cpu_pct", local))
                for k, v in enumerate(per, 1)]
    found = contention.find(rows([50.0, 96.0, 99.0], [40.0, 60.0, 70.0]),
                               [], ["netperf:TCP_STREAM"])
    assert found["netserver"]["netperf:TCP_STREAM"] == {
        "active": 2, "remote_cpu_pct": 96.0, "netserver_cpu_busy_pct": None,
        "local_cpu_pct": 60.0}
    lines = contention.sentences({"contention": found, "telemetry": []})
    assert any("the netserver saturated before the clients: its CPU busy "
               "96% by netperf's remote CPU at 2 instance(s)" in line
               for line in lines), lines
    # without netperf's -C: the netserver instance's own counters say it
    # (the telemetry rows), against the clients' own
    tel = [{"benchmark": "netperf:TCP_STREAM", "active": k,
            "netserver_cpu_busy_pct": ns, "guest_cpu_busy_pct": cl}
           for k, ns, cl in ((1, 40.0, 30.0), (2, 70.0, 50.0),
                             (3, 93.0, 55.0))]
    own = contention.find([], tel, ["netperf:TCP_STREAM"])
    assert own["netserver"]["netperf:TCP_STREAM"] == {
        "active": 3, "remote_cpu_pct": None, "netserver_cpu_busy_pct": 93.0,
        "local_cpu_pct": 55.0}
    lines = contention.sentences({"contention": own, "telemetry": []})
    assert any("its CPU busy 93% by its own counters at 3" in line
               for line in lines), lines
    # both sides saturated, or no CPU measured: nothing to single out
    both = contention.find(rows([95.0, 99.0], [95.0, 99.0]), [],
                              ["netperf:TCP_STREAM"])
    assert both["netserver"]["netperf:TCP_STREAM"] is None
    none = contention.find([], [], ["netperf:TCP_RR", "bonnie++"])
    assert none["netserver"] == {"netperf:TCP_RR": None}
