"""The sweep: the same benchmark in k = 1..N instances at the same time.

Instances are reached through runners (``rally_kvm_perf.host.runner``): SSH
for cloud instances, local processes in tests. For each level k and each
repetition, the benchmark starts in the first k instances together (each
command waits in its guest for one planned moment by that guest's clock,
sweep/timing.py: a command that reaches a loaded guest late still starts
with the others), and each instance's start and end times are kept so
that the overlap can be judged.

A failure in one instance (non-zero exit, unparsable output, SSH error)
is recorded for that instance, level and repetition; the other instances'
results are kept and the sweep goes on. An instance that cannot be reached
any more is not tried again: its later runs are recorded as skipped.
"""

import contextlib
import dataclasses
import os
import re
import shlex
import threading
import time
import typing as t

from oslo_log import log as logging

from rally_kvm_perf import exceptions
from rally_kvm_perf import metrics
from rally_kvm_perf import telemetry
from rally_kvm_perf.analysis import stats
from rally_kvm_perf.benchmarks import outputs
from rally_kvm_perf.host import runner as host_runner
from rally_kvm_perf.sweep import plan
from rally_kvm_perf.sweep import schedule as sched
from rally_kvm_perf.sweep import status
from rally_kvm_perf.sweep import timing
from rally_kvm_perf.sweep import watch

LOG = logging.getLogger(__name__)

BETWEEN = ("none", "drop_caches", "reboot")


@dataclasses.dataclass
class Target:
    """One instance: a name for the report, its hypervisor, a runner."""
    name: str
    runner: t.Any              # host_runner.Runner (SSH, local)
    hypervisor: str | None = None
    use_sudo: bool = False  # for root-only commands (dropping caches)
    broken: str | None = None      # why it is no longer tried
    # the guest clock against ours: {"offset_s", "uncertainty_s"} or None
    clock: dict | None = None
    # how its boot ended: {"status", "exit_code", "waited_s"} or None
    boot: dict | None = None


@dataclasses.dataclass
class Benchmark:
    """What runs in every instance: ``name`` is "bonnie++" or
    "netperf:TEST"; ``argv`` the command; ``as_root``: prefix ``sudo -n``
    where the SSH user is not root. ``argv_by_target``: {instance name:
    its own argv} where instances differ in the command (netperf with a
    netserver per client); ``watched``: {instance name: the Target whose
    kernel counters are read while it runs} (that netserver instance),
    over ``seconds`` (the benchmark's fixed length)."""
    name: str
    argv: list[str]
    as_root: bool = False
    argv_by_target: t.Optional[t.Dict[str, list]] = None
    watched: t.Optional[t.Dict[str, "Target"]] = None
    seconds: t.Optional[float] = None

    def argv_for(self, target: Target) -> list[str]:
        argv = (self.argv_by_target or {}).get(target.name, self.argv)
        return as_root(target, argv) if self.as_root else list(argv)


def as_root(target: Target, argv: t.Sequence[str]) -> list[str]:
    """``argv`` for a root-only command in ``target``: through ``sudo -n``
    where the SSH user is not root."""
    return (["sudo", "-n"] if target.use_sudo else []) + list(argv)


# how long a timed-out benchmark's processes may take to end after their
# process group was signalled (beyond it they are "left running")
STOP_GRACE_S = 15


class Sweep:
    """Runs benchmarks in 1..N instances at once; see the module docstring.

    :param targets: instances, in the order levels use them
    :param benchmarks: run one after the other in each repetition
    :param schedule: the levels, repetitions and limits (schedule.py)
    :param hooks: reboots, progress, timers and the rest (schedule.py)
    """

    def __init__(self, targets: t.Sequence[Target],
                 benchmarks: t.Sequence[Benchmark],
                 schedule: sched.Schedule,
                 hooks: sched.Hooks | None = None) -> None:
        hooks = hooks or sched.Hooks()
        levels, repetitions = schedule.levels, schedule.repetitions
        between, target_half_width = (schedule.between,
                                      schedule.target_half_width)
        min_repetitions = schedule.min_repetitions
        if between not in BETWEEN:
            raise exceptions.InvalidArgument(
                "between_repetitions must be one of %s, got %r"
                % (", ".join(BETWEEN), between))
        if between == "reboot" and hooks.reboot is None:
            raise exceptions.InvalidArgument(
                "between_repetitions=reboot needs a way to reboot instances")
        if not plan.valid_levels(levels, len(targets)):
            raise exceptions.InvalidArgument(
                "active instance counts must be whole numbers from 1 to %d "
                "(the instances available), got %r" % (len(targets), levels))
        plan.check_adaptive(repetitions, min_repetitions, target_half_width)
        self.target_half_width = target_half_width
        self.min_repetitions = (min(repetitions, min_repetitions or
                                    plan.DEFAULT_MIN_REPETITIONS)
                                if target_half_width else repetitions)
        # level: {"repetitions", "why", "widths"}
        self.adaptive: dict[int, dict] = {}
        self.targets = list(targets)
        self.benchmarks = list(benchmarks)
        self.levels = list(levels)
        self.repetitions = repetitions
        self.between = between
        self.reboot = hooks.reboot
        self.command_timeout = schedule.command_timeout
        self.barrier_timeout = schedule.barrier_timeout
        self.progress = hooks.progress or LOG.info
        self.timer = hooks.timer or (lambda name: contextlib.nullcontext())
        # grows as runs finish: nothing is lost on error
        self.runs = [r for r in schedule.done
                     if not any(i.get("error") for i in r["instances"])]
        self._done = {(r["level"], r["repetition"], r["benchmark"])
                      for r in self.runs}
        self.on_run = hooks.on_run or (lambda runs: None)
        self.should_stop = hooks.should_stop or (lambda: None)
        self.stopped: str | None = None
        self.warnings: list[str] = []
        self.events: list[dict] = []  # reboots and cache drops that failed
        self.host_probe = hooks.host_probe
        # the last level's lateness and command reach: the next lead
        self.late_start = self.command_reach = 0.0

    def _clocks(self, targets):
        """Estimate each live target's clock offset (in parallel)."""
        def one(target):
            try:
                target.clock = timing.estimate_clock(target.runner)
            except exceptions.HostUnreachable as e:
                target.clock = None
                if not target.broken:
                    target.broken = "unreachable before its first run: %s" % e
                    self.warnings.append("%s is %s" % (target.name,
                                                       target.broken))
            except Exception as e:  # the run will say it; no times then
                target.clock = None
                LOG.warning("%s: clock offset not estimated: %s",
                            target.name, e)
        parallel(targets, one)

    def run(self) -> list[dict]:
        self._clocks(self.targets[:max(self.levels)])
        to_run = [(level, rep, bench.name) for level in self.levels
                  for rep in range(1, self.repetitions + 1)
                  for bench in self.benchmarks
                  if (level, rep, bench.name) not in self._done]
        if self._done:
            self.progress("resuming: %d run(s) kept from the earlier sweep, "
                          "%d to run" % (len(self._done), len(to_run)))
        eta = status.Estimate(to_run)
        for level in self.levels:
            active = self.targets[:level]
            for rep in range(1, self.repetitions + 1):
                if rep > self.min_repetitions and self._narrow(level,
                                                               rep - 1):
                    break
                if all((level, rep, b.name) in self._done
                       for b in self.benchmarks):
                    continue
                if self._stop(level, rep):
                    return self.runs
                t0 = time.monotonic()
                self._between(active, rep, level)
                eta.between_done(level, rep, time.monotonic() - t0)
                for bench in self.benchmarks:
                    if (level, rep, bench.name) in self._done:
                        continue
                    if self._stop(level, rep):
                        return self.runs
                    t0 = time.monotonic()
                    record = self._run_level(bench, active, level, rep)
                    self.runs.append(record)
                    self.on_run(self.runs)
                    left = eta.done(level, rep, bench.name,
                                    time.monotonic() - t0)
                    self.progress("%s; %s" % (status.summary(record), left))
            else:
                if self.target_half_width:
                    widths = self.widths(level)
                    self.adaptive[level] = {
                        "repetitions": self.repetitions, "widths": widths,
                        "why": "the most allowed (%d); %s" % (
                            self.repetitions, status.widths_text(
                                widths, self.target_half_width))}
        return self.runs

    def widths(self, level: int) -> dict[str, tuple]:
        """{benchmark: (headline metric, relative 95% half-width or None,
        n)} at ``level``, over the repetition-level values (each the mean
        of the level's instances in that repetition)."""
        out = {}
        for bench in self.benchmarks:
            per_rep: dict[int, list] = {}
            for run in self.runs:
                if (run["level"], run["benchmark"]) != (level, bench.name):
                    continue
                for inst in run["instances"]:
                    found = (None if inst.get("error") else
                             metrics.headline(inst.get("metrics") or {}))
                    if found:
                        per_rep.setdefault(run["repetition"], []).append(
                            found)
            names = [k for pairs in per_rep.values() for k, _ in pairs]
            if not names:
                out[bench.name] = (None, None, 0)
                continue
            name = max(set(names), key=names.count)
            values = [stats.mean([v for k, v in pairs if k == name])
                      for pairs in per_rep.values()
                      if any(k == name for k, _ in pairs)]
            summ = stats.summarize(values, keep_samples=False)
            half = (summ["ci_half_width"] / abs(summ["mean"])
                    if summ["ci_half_width"] is not None and summ["mean"]
                    else None)
            out[bench.name] = (name, half, summ["n"])
        return out

    def _narrow(self, level, reps):
        """Adaptive repetitions: after ``reps`` repetitions, is every
        headline interval at ``level`` narrow enough? Said when it is."""
        if not self.target_half_width:
            return False
        widths = self.widths(level)
        if not all(half is not None and half <= self.target_half_width
                   for _, half, _ in widths.values()):
            return False
        self.adaptive[level] = {
            "repetitions": reps, "widths": widths,
            "why": "target width reached after %d: %s" % (
                reps, status.widths_text(widths, self.target_half_width))}
        self.progress("%d instance(s) at once: %s; no more repetitions"
                      % (level, self.adaptive[level]["why"]))
        return True

    def _stop(self, level, rep):
        reason = self.should_stop()
        if reason:
            self.stopped = ("%s before level %d repetition %d"
                            % (reason, level, rep))
            self.progress("sweep stopped: %s; %d run(s) kept"
                          % (self.stopped, len(self.runs)))
        return bool(reason)

    # -- between repetitions --

    def _between(self, active, rep, level):
        alive = [t for t in active if not t.broken]
        if self.between == "drop_caches":
            for target in alive:
                argv = as_root(target, host_runner.DROP_CACHES)
                try:
                    res = target.runner.run(argv, timeout=300)
                except exceptions.KVMPerfError as e:
                    res = None
                    self._mark_broken(target, level, rep, e)
                if res is not None and res.exit_code != 0:
                    warning = ("%s: could not drop page caches (%s)"
                               % (target.name, exceptions.last_line(
                                   res.stderr) or res.exit_code))
                    if warning not in self.warnings:
                        self.warnings.append(warning)
        elif self.between == "reboot" and rep > 1 and alive:
            with self.timer("kvm_perf.reboot_instances"):
                try:
                    self.reboot(alive)
                    # a new boot, a new clock (not for one that did not
                    # come back: it would wait out its SSH timeout again)
                    self._clocks([t for t in alive if not t.broken])
                except Exception as e:  # one bad reboot must not end it all
                    self.events.append({"level": level, "repetition": rep,
                                        "event": "reboot failed: %s" % e})
                    self.warnings.append("reboot before level %d repetition "
                                         "%d failed: %s" % (level, rep, e))

    def _mark_broken(self, target, level, rep, error):
        if not target.broken:
            target.broken = ("unreachable since level %d repetition %d: %s"
                             % (level, rep, error))
            self.warnings.append("%s is %s" % (target.name, target.broken))

    def _check_stopped(self, target, bench, out, level, rep):
        """After a timeout the benchmark must be gone from the instance
        (the runner ended its process group): ``pgrep`` says so, and an
        instance where it still runs -- it left the group, or the kill did
        not land -- measures nothing more, as every later run there would
        share the machine with it. ``left_running``: [] verified gone,
        [pid, ...] still there, None when it could not be checked."""
        name = os.path.basename(bench.argv[0])
        pattern = re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", name)
        # the group was signalled as the command returned: its processes
        # may take a moment to end
        deadline = time.monotonic() + STOP_GRACE_S
        try:
            while True:
                res = target.runner.run(["pgrep", "-x", pattern], timeout=60)
                if res.exit_code != 0 or time.monotonic() >= deadline:
                    break
                time.sleep(1)
        except exceptions.KVMPerfError as e:
            out["left_running"] = None
            self.warnings.append("%s: whether %s stopped after its timeout "
                                 "is unknown: %s" % (target.name, name, e))
            return
        if res.exit_code == 1:   # pgrep: nothing matched
            out["left_running"] = []
            return
        if res.exit_code != 0:   # no pgrep there
            out["left_running"] = None
            self.warnings.append("%s: whether %s stopped after its timeout "
                                 "is unknown: pgrep exited %s" % (
                                     target.name, name, res.exit_code))
            return
        out["left_running"] = res.stdout.split()
        if not target.broken:
            target.broken = (
                "%s still runs there after its timeout at level %d "
                "repetition %d (pid %s): later runs would share the "
                "instance with it" % (name, level, rep,
                                      ", ".join(out["left_running"])))
            self.warnings.append("%s: %s" % (target.name, target.broken))

    # -- one level, one repetition, one benchmark --

    def _run_level(self, bench, active, level, rep):
        record = {"benchmark": bench.name, "level": level, "repetition": rep,
                  "command": shlex.join(bench.argv), "instances": []}
        runnable = [t for t in active if not t.broken]
        results = {t.name: {"instance": t.name, "hypervisor": t.hypervisor,
                            "started_at": None, "finished_at": None,
                            "exit_code": None, "metrics": None,
                            "error": "skipped: %s" % t.broken}
                   for t in active if t.broken}
        self.progress("%s: %d instance(s) at once, repetition %d/%d: "
                      "starting" % (bench.name, level, rep, self.repetitions))
        barrier = threading.Barrier(max(len(runnable), 1),
                                    timeout=self.barrier_timeout)
        before = self._host_snapshot(runnable)
        go = timing.start_moment([t.clock for t in runnable],
                                 self.late_start, self.command_reach)
        record["planned_start_at"] = go
        threads = []
        for target in runnable:
            results[target.name] = {"instance": target.name,
                                    "hypervisor": target.hypervisor}
            if bench.argv_by_target:
                results[target.name]["command"] = shlex.join(
                    bench.argv_for(target))
            thread = threading.Thread(
                target=self._run_one,
                args=(target, bench, barrier, results[target.name], level, rep,
                      watch.start_at(go, target)),
                name="kvm-perf-%s" % target.name, daemon=True)
            threads.append(thread)
        watched = watch.watched(bench, runnable)
        if watched:
            record["netserver_telemetry"] = {}
            threads += [threading.Thread(
                target=watch.watch,
                args=(peer, bench.seconds, watch.start_at(go, peer),
                      record["netserver_telemetry"]),
                name="kvm-perf-watch-%s" % peer.name, daemon=True)
                for peer in watched]
        with self.timer("%s.%d_instances" % (bench.name, level)):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        after = self._host_snapshot(runnable)
        record["instances"] = [results[t.name] for t in active]
        if go is not None:
            self.late_start = timing.lateness(record["instances"], go)
        self.command_reach = timing.reach(record["instances"])
        if before and after:
            seconds = after[0] - before[0]
            record["host_telemetry"] = {}
            for host, text in before[1].items():
                usage = telemetry.host_usage(text, after[1].get(host), seconds)
                if usage:
                    record["host_telemetry"][host] = usage
        return record

    def _host_snapshot(self, targets):
        """(time, {host: counters}) or None: a probe that fails costs the
        run its host figures, never the run."""
        if self.host_probe is None or not targets:
            return None
        t0 = time.monotonic()
        try:
            found = self.host_probe.snapshot(targets)
        except Exception as e:
            warning = "host telemetry not read: %s" % e
            if warning not in self.warnings:
                self.warnings.append(warning)
            return None
        return (t0 + time.monotonic()) / 2.0, found

    def _run_one(self, target, bench, barrier, out, level, rep, start_at):
        out.update({"started_at": None, "finished_at": None,
                    "exit_code": None, "metrics": None, "error": None})
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            out["barrier_broken"] = True  # start anyway; overlap shows it
        out["started_at"] = timing.now()
        try:
            res = target.runner.run(
                timing.timed(bench.argv_for(target), start_at=start_at),
                timeout=self.command_timeout)
        except exceptions.HostUnreachable as e:
            out["finished_at"] = timing.now()
            out["error"] = "%s: %s" % (target.name, e)
            self._mark_broken(target, level, rep, e)
            return
        except exceptions.KVMPerfError as e:  # timeout
            out["finished_at"] = timing.now()
            out["error"] = "%s: %s" % (target.name, e)
            if getattr(e, "exit_code", None) == "timeout":
                self._check_stopped(target, bench, out, level, rep)
            return
        except Exception as e:  # never lose the other instances' results
            out["finished_at"] = timing.now()
            out["error"] = "%s: unexpected %s: %s" % (
                target.name, type(e).__name__, e)
            return
        out["finished_at"] = timing.now()
        out["exit_code"] = res.exit_code
        stderr, times, usage = timing.unwrap(
            res.stderr, out["finished_at"] - out["started_at"])
        out["stdout"], out["stderr"] = res.stdout, stderr
        if usage is not None:
            out["telemetry"] = usage
        out.update(timing.on_our_clock(times, target.clock))
        if res.exit_code != 0:
            out["error"] = "%s: %s exited with %d: %s" % (
                target.name, bench.argv[0], res.exit_code,
                exceptions.last_line(stderr)
                or outputs.failure(bench.name, res.stdout)
                or exceptions.last_line(res.stdout) or "no output")
            return
        try:
            out["metrics"], warnings = outputs.parse_metrics(bench.name,
                                                             res.stdout)
        except exceptions.ParseError as e:
            out["error"] = "%s: %s" % (target.name, e)
            return
        if warnings:
            out["warnings"] = warnings


def parallel(targets: t.Iterable[Target],
             func: t.Callable[[Target], object]) -> None:
    """func(target) in one thread per live target, all at once; an
    exception marks that target broken with its message (the others go
    on)."""
    def call(target: Target) -> None:
        try:
            func(target)
        except exceptions.KVMPerfError as e:
            target.broken = "%s: %s" % (target.name, e)
        except Exception as e:
            target.broken = "%s: unexpected %s: %s" % (
                target.name, type(e).__name__, e)
    threads = [threading.Thread(target=call, args=(tg,), daemon=True)
               for tg in targets if not tg.broken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
