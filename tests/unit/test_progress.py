"""The sweep's progress lines (a run's headline metric, the time left) and
the in-guest timing of each run."""

import subprocess
import time

import pytest

from rally_kvm_perf.sweep import status
from rally_kvm_perf.sweep import timing


def test_estimate_scales_unseen_levels_and_counts_reboots():
    plan = [(k, r, "bonnie++") for k in (1, 2, 4) for r in (1, 2)]
    eta = status.Estimate(plan)
    eta.between_done(1, 1, 0.0)
    assert eta.done(1, 1, "bonnie++", 30.0).startswith("5 run(s) left")
    # 30 s at level 1; level 2 twice as long, level 4 four times
    assert eta.remaining() == 30.0 + 2 * 60.0 + 2 * 120.0
    eta.between_done(1, 2, 20.0)   # a reboot: every later step costs it
    eta.done(1, 2, "bonnie++", 34.0)
    assert eta.remaining() == 2 * 64.0 + 2 * 128.0 + 4 * 20.0
    eta.between_done(2, 1, 20.0)
    eta.done(2, 1, "bonnie++", 70.0)
    # level 2 seen: its own mean; level 4 scaled from level 2
    assert eta.remaining() == 70.0 + 2 * 140.0 + 3 * 20.0
    assert "about 7 min (estimate)" in eta.text()


def test_fixed_time_benchmarks_do_not_scale_with_instances():
    eta = status.Estimate([(k, 1, "netperf:TCP_STREAM") for k in (1, 8)])
    eta.done(1, 1, "netperf:TCP_STREAM", 62.0)
    assert eta.remaining() == 62.0
    assert eta.done(8, 1, "netperf:TCP_STREAM", 63.0) == "sweep complete"


def test_summary_names_the_headline_metric_and_failures():
    record = {"benchmark": "netperf:TCP_RR", "level": 3, "repetition": 2,
              "instances": [
                  {"metrics": {"transactions_per_s": 1000.0,
                               "latency_mean_us": 900.0}},
                  {"metrics": {"transactions_per_s": 800.0}},
                  {"error": "vm-3: netperf exited with 1"}]}
    assert status.summary(record) == (
        "netperf:TCP_RR, 3 instance(s) at once, repetition 2 done: "
        "transactions_per_s mean 900 (per instance: 1000, 800); "
        "1 of 3 instance run(s) FAILED")


def test_the_timing_line_is_split_off_stderr():
    err = "bonnie++: warning\nKVMPERF-TIMES 1700000000.25 1700000042.5\n"
    kept, times = timing.split_times(err)
    assert kept == "bonnie++: warning\n"
    assert times == (1700000000.25, 1700000042.5, None)
    # with the moment the command reached the guest
    _, times = timing.split_times("KVMPERF-TIMES 10.5 20.25 9.75\n")
    assert (times.started, times.finished, times.arrived) == (
        10.5, 20.25, 9.75)
    assert timing.split_times("no times\n") == ("no times\n", None)
    argv = timing.timed(["bonnie++", "-d", "/tmp/a b; rm -rf /"])
    # the benchmark's words stay positional parameters of sh, never code
    assert argv[:2] == ["sh", "-c"] and argv[3:] == [
        "sh", "bonnie++", "-d", "/tmp/a b; rm -rf /"]


def test_a_run_waits_for_its_planned_moment_and_no_longer():
    go = time.time() + 0.6
    proc = subprocess.run(timing.timed(["echo", "x; rm -rf /"],
                                       start_at=go),
                          capture_output=True, text=True, check=True)
    assert proc.stdout == "x; rm -rf /\n"
    times = timing.split_times(proc.stderr)[1]
    assert go - 0.01 <= times.started < go + 0.3
    # it noted its arrival before it waited
    assert times.arrived < go - 0.3
    # a command that arrives after its moment starts at once
    late = time.time()
    proc = subprocess.run(timing.timed(["true"], start_at=late - 30),
                          capture_output=True, text=True, check=True)
    assert timing.split_times(proc.stderr)[1][0] < late + 0.3
    # the lead covers the slowest guest's round trips, within bounds
    assert timing.start_lead([{"uncertainty_s": 0.001}]) == 1.0
    assert timing.start_lead([{"uncertainty_s": 0.1},
                              {"uncertainty_s": 0.4}]) == 1.6
    assert timing.start_lead([{"uncertainty_s": 9}]) == 10.0
    # a run that began 1.5 s late: the next level allows twice that
    assert timing.start_lead([{"uncertainty_s": 0.1}], late=1.5) == 3.0
    # a command that took 1.2 s to reach its guest: twice that
    assert timing.start_lead([{"uncertainty_s": 0.1}], reach=1.2) == 2.4


def test_the_next_lead_learns_how_long_commands_took_to_arrive():
    sent = time.time()
    proc = subprocess.run(timing.timed(["true"]), capture_output=True,
                          text=True, check=True)
    times = timing.split_times(proc.stderr)[1]
    clock = {"offset_s": 100.0, "uncertainty_s": 0.01}
    shifted = timing.Times(*(t + 100.0 for t in times))
    run = dict(timing.on_our_clock(shifted, clock), started_at=sent)
    assert sent <= run["guest_arrived_at"] <= run["guest_started_at"]
    assert run["guest_started_at"] <= run["guest_finished_at"]
    slow = dict(run, started_at=sent, guest_arrived_at=sent + 1.7)
    assert timing.reach([run, slow, {"started_at": sent}]) == \
        pytest.approx(1.7)
    assert timing.reach([{"started_at": sent}]) == 0.0
    assert timing.on_our_clock(None, clock) == {}


class SkewedRunner:
    """A guest 100 s ahead of us whose replies take 0.2 s, except one."""

    def __init__(self, delays):
        self.delays = list(delays)
        self.now = 1000.0

    def run(self, argv, timeout=None):
        from rally_kvm_perf.host import runner
        delay = self.delays.pop(0)
        self.now += delay / 2
        guest = self.now + 100.0
        self.now += delay / 2
        return runner.Result(0, "%.6f\n" % guest, "")


def test_clock_offset_from_the_shortest_round_trip(monkeypatch):
    fake = SkewedRunner([0.2, 0.2, 0.02, 0.2, 0.2])
    monkeypatch.setattr(timing, "now", lambda: fake.now)
    clock = timing.estimate_clock(fake)
    assert abs(clock["offset_s"] - 100.0) < 1e-6
    assert abs(clock["uncertainty_s"] - 0.01) < 1e-9
