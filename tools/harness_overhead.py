#!/usr/bin/env python3
"""Does the harness perturb what it measures? A benchmark, not a test.

Runs the host baseline through ``rally-kvm-perf baseline`` and the very same
bonnie++/netperf commands directly (subprocess, nothing else), in a B-A-A-B
order so that drift of the machine cancels out, then prints per headline
metric the ratio harness/direct (target: within +/-3%) and the wall-time
overhead of the harness. Everything talks to a private netserver on loopback.

    .venv/bin/python tools/harness_overhead.py [--runs 5] [--bonnie-size 1024]

With ``--telemetry`` the "harness" side is instead what the sweep wraps
around every run in an instance and on its host: the in-guest timing and
counter snapshots (sweep.timing.timed) and the compute host's counters read
just before and after (telemetry.host_argv): does reading them perturb the
benchmark?
"""

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time

from rally_kvm_perf import telemetry
from rally_kvm_perf.analysis import stats
from rally_kvm_perf.benchmarks import bonnie
from rally_kvm_perf.benchmarks import netperf
from rally_kvm_perf.host import baseline
from rally_kvm_perf.host import netserver
from rally_kvm_perf.host import runner as host_runner
from rally_kvm_perf.sweep import timing

# bonnie++ runs in fast mode (-f): its per-char tests run at a few MB/s
# here, which would make a 1 GiB file take minutes per run
HEADLINE = (
    ("bonnie++", "block_write_kBps"),
    ("bonnie++", "rewrite_kBps"), ("bonnie++", "block_read_kBps"),
    ("netperf:TCP_STREAM", "throughput_mbps"),
    ("netperf:UDP_STREAM", "throughput_mbps"),
    ("netperf:TCP_RR", "transactions_per_s"),
    ("netperf:TCP_RR", "latency_mean_us"),
)


def through_harness(args, host, port, workdir):
    out = os.path.join(workdir, "harness-%d.json" % time.monotonic_ns())
    cmd = [os.path.join(os.path.dirname(sys.executable), "rally-kvm-perf"),
           "baseline", "--runs", str(args.runs), "--bonnie-dir", workdir,
           "--bonnie-size", str(args.bonnie_size), "--bonnie-files", "0",
           "--bonnie-fast", "--force", "--duration", str(args.duration),
           "--netserver", "%s:%d" % (host, port), "-o", out]
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    doc = baseline.load(out)
    samples = {key: [s["metrics"].get(key[1])
                     for s in doc["benchmarks"][key[0]]["samples"]]
               for key in HEADLINE}
    commands = {"bonnie++": doc["parameters"]["bonnie"]["command"]}
    for test, command in doc["parameters"]["netperf"]["commands"].items():
        commands["netperf:" + test] = command
    return samples, wall, commands


def commands_for(args, host, port, workdir):
    """The commands the baseline would run (as through_harness's)."""
    out = {"bonnie++": shlex.join(bonnie.build_command(
        workdir, bonnie.Options(
            size_mb=args.bonnie_size, ram_mb=max(args.bonnie_size // 2, 1),
            files=0, fast=True, force=True,
            user="root" if os.geteuid() == 0 else None)))}
    for test in ("TCP_STREAM", "UDP_STREAM", "TCP_RR"):
        out["netperf:" + test] = shlex.join(netperf.build_command(
            test, host, netperf.Options(port=port, duration=args.duration)))
    return out


def _plain(argv):
    return subprocess.run(argv, check=True, capture_output=True,
                          text=True).stdout


def _telemetry_wrapped(argv):
    """As the sweep runs a benchmark: in the timing wrapper that reads the
    guest's counters before and after, the host's counters read before
    and after too."""
    subprocess.run(telemetry.host_argv([]), check=True, capture_output=True)
    res = subprocess.run(timing.timed(argv), check=True, capture_output=True,
                         text=True)
    subprocess.run(telemetry.host_argv([]), check=True, capture_output=True)
    stderr, _times = timing.split_times(res.stderr)
    if len(telemetry.split(stderr)[1]) != 2:
        raise SystemExit("the wrapper read no counters: %s" % stderr[-500:])
    return res.stdout


def directly(args, commands, run=_plain):
    """The commands ``args.runs`` times, each through ``run`` (argv ->
    stdout): plainly, or as the sweep wraps them (_telemetry_wrapped)."""
    samples = {key: [] for key in HEADLINE}
    t0 = time.monotonic()
    for _ in range(args.runs):
        for name, command in commands.items():
            if name == "bonnie++":
                subprocess.run(host_runner.DROP_CACHES, check=False)
            out = run(shlex.split(command))
            parsed = (bonnie.parse(out)[-1] if name == "bonnie++"
                      else netperf.parse(out, name.split(":")[1]))
            for bench, metric in HEADLINE:
                if bench == name:
                    samples[(bench, metric)].append(parsed.get(metric))
    return samples, time.monotonic() - t0


def main():
    # SIGTERM unwinds like Ctrl-C, so that the private netserver is stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bonnie-size", type=int, default=1024)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--telemetry", action="store_true",
                        help="compare the sweep's per-run telemetry "
                             "wrapper with direct runs instead")
    args = parser.parse_args()
    harness = {key: [] for key in HEADLINE}
    direct = {key: [] for key in HEADLINE}
    walls = {"harness": 0.0, "direct": 0.0}
    with tempfile.TemporaryDirectory(dir="/var/tmp") as workdir, \
            netserver.LocalNetserver() as (host, port):
        commands = (commands_for(args, host, port, workdir)
                    if args.telemetry else None)
        # B-A-A-B: drift cancels; the first harness block yields the exact
        # commands the direct blocks run
        for block in ("harness", "direct", "direct", "harness"):
            if block == "harness" and args.telemetry:
                samples, wall = directly(args, commands, _telemetry_wrapped)
                target = harness
            elif block == "harness":
                samples, wall, commands = through_harness(args, host, port,
                                                          workdir)
                target = harness
            else:
                samples, wall = directly(args, commands)
                target = direct
            walls[block] += wall
            for key in HEADLINE:
                target[key].extend(samples[key])
    what = "with telemetry" if args.telemetry else "through harness"
    print("| metric | %s | direct | %s/direct (95%% CI) "
          "| Welch p | n |" % (what, what.split()[-1]))
    print("|---|---|---|---|---|---|")
    for bench, metric in HEADLINE:
        h = stats.summarize(harness[(bench, metric)])
        d = stats.summarize(direct[(bench, metric)])
        if h["mean"] is None or d["mean"] is None:
            print("| %s %s | unmeasured (+++) | | | | %d/%d |"
                  % (bench, metric, h["n"], d["n"]))
            continue
        # plain harness/direct (not oriented): > 1 means the harness saw more
        r = stats.ratio(harness[(bench, metric)], direct[(bench, metric)])
        w = stats.welch(direct[(bench, metric)], harness[(bench, metric)])
        ci = ("%.3f-%.3f" % (r["ci_low"], r["ci_high"])
              if r["ci_low"] is not None else "n/a")
        print("| %s %s | %.6g | %.6g | %.3f (%s) | %s | %d/%d |"
              % (bench, metric, h["mean"], d["mean"], r["ratio"], ci,
                 "%.2f" % w["p_value"] if w["p_value"] is not None
                 else "n/a", h["n"], d["n"]))
    overhead = (walls["harness"] - walls["direct"]) / walls["direct"]
    print("\nwall time: %s %.1f s, direct %.1f s, overhead %+.1f%% (%s)"
          % (what, walls["harness"], walls["direct"], overhead * 100,
             "counter snapshots and the host probe around every run"
             if args.telemetry else "facts, version probes, a 1 s "
             "netserver check per run, JSON rewrites"))
    print(json.dumps({"runs_per_block": args.runs, "telemetry":
                      args.telemetry,
                      "bonnie_size_mb": args.bonnie_size,
                      "netperf_duration_s": args.duration}))


if __name__ == "__main__":
    main()
