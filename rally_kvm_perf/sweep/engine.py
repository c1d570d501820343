"""The sweep: the same benchmark in k = 1..N instances at the same time.

Instances are reached through runners (``rally_kvm_perf.host.runner``): SSH
for cloud instances, local processes in tests. For each level k and each
repetition, the benchmark starts in the first k instances together — every
thread waits at a barrier, then records its start time and runs — and each
instance's start and end times are kept so that the overlap can be judged.

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

from oslo_log import log as logging

from rally_kvm_perf import exceptions
from rally_kvm_perf import metrics
from rally_kvm_perf import telemetry
from rally_kvm_perf.analysis import stats
from rally_kvm_perf.benchmarks import outputs
from rally_kvm_perf.host import runner as host_runner

LOG = logging.getLogger(__name__)

BETWEEN = ("none", "drop_caches", "reboot")


@dataclasses.dataclass
class Target:
    """One instance: a name for the report, its hypervisor, a runner."""
    name: str
    runner: object
    hypervisor: str = None
    use_sudo: bool = False  # for root-only commands (dropping caches)
    broken: str = None      # why it is no longer tried
    # the guest clock against ours: {"offset_s", "uncertainty_s"} or None
    clock: dict = None
    # how its boot ended: {"status", "exit_code", "waited_s"} or None
    boot: dict = None


# Each run is wrapped so that the instance itself notes when the benchmark
# started and ended (its own clock): the client's barrier only says when
# the SSH requests left, not when bonnie++/netperf began under load. Its
# kernel counters are read just before and just after (telemetry.py): the
# run's steal, iowait, disk and NIC figures, with nothing running beside
# the benchmark.
TIMES_MARK = "KVMPERF-TIMES"
_TIMED = ('b=$(%s); s=$(date +%%s.%%N); "$@"; rc=$?; e=$(date +%%s.%%N); '
          'a=$(%s); printf "%%s\\n" "$b" "$a" >&2; '
          'echo "%s $s $e" >&2; exit $rc'
          % (telemetry.snapshot_script(), telemetry.snapshot_script(),
             TIMES_MARK))


def timed(argv):
    """argv run under the in-guest timing wrapper (no shell injection: the
    benchmark's words stay positional parameters)."""
    return ["sh", "-c", _TIMED, "sh"] + list(argv)


def split_times(stderr):
    """(stderr without the timing line, (start, end) in guest time or
    None)."""
    kept, times = [], None
    for line in (stderr or "").splitlines(True):
        parts = line.split()
        if len(parts) == 3 and parts[0] == TIMES_MARK:
            try:
                times = (float(parts[1]), float(parts[2]))
            except ValueError:
                kept.append(line)
            continue
        kept.append(line)
    return "".join(kept), times


def estimate_clock(runner, samples=5):
    """The guest clock's offset to ours from SSH round trips: the sample
    with the shortest round trip, offset = guest - midpoint, uncertainty =
    half that round trip (the guest read its clock somewhere inside it)."""
    best = None
    for _ in range(samples):
        t0 = _now()
        res = runner.run(["date", "+%s.%N"], timeout=60)
        t1 = _now()
        try:
            guest = float(res.stdout.strip())
        except ValueError:
            continue
        if best is None or t1 - t0 < best[1] - best[0]:
            best = (t0, t1, guest)
    if best is None:
        return None
    t0, t1, guest = best
    return {"offset_s": guest - (t0 + t1) / 2.0,
            "uncertainty_s": (t1 - t0) / 2.0}


@dataclasses.dataclass
class Benchmark:
    """What runs in every instance: ``name`` is "bonnie++" or
    "netperf:TEST"; ``argv`` the command (the same in every instance);
    ``as_root``: prefix ``sudo -n`` where the SSH user is not root."""
    name: str
    argv: list
    as_root: bool = False

    def argv_for(self, target):
        return as_root(target, self.argv) if self.as_root else list(
            self.argv)


def as_root(target, argv):
    """``argv`` for a root-only command in ``target``: through ``sudo -n``
    where the SSH user is not root."""
    return (["sudo", "-n"] if target.use_sudo else []) + list(argv)


def _now():
    return time.time()


# how long a timed-out benchmark's processes may take to end after their
# process group was signalled (beyond it they are "left running")
STOP_GRACE_S = 15


class Sweep:
    """Runs benchmarks in 1..N instances at once; see the module docstring.

    :param targets: instances, in the order levels use them
    :param benchmarks: run one after the other in each repetition
    :param levels: numbers of concurrently active instances, e.g. [1, 2, 3]
    :param repetitions: runs per level
    :param between: "none", "drop_caches" (before every run) or "reboot"
        (before every run but the first; needs ``reboot``)
    :param reboot: callable(targets) that reboots those instances and
        returns when they answer SSH again
    :param command_timeout: seconds one benchmark command may run
    :param barrier_timeout: seconds the k threads wait for each other
    :param progress: callable(str) for progress lines
    :param timer: callable(name) -> context manager (Rally atomic actions)
    :param on_run: callable(runs so far) after every run: where a long
        sweep writes what it has, so that an interruption keeps it
    :param should_stop: callable() -> reason or None, asked before every
        run (``rally task abort``); a reason ends the sweep there, with
        ``stopped`` set to it and every finished run kept
    :param done: run records of an earlier, interrupted sweep with the
        same parameters: those without a failed instance are kept and not
        run again (a repetition is independent of the others: that is
        what makes it the unit of replication)
    :param host_probe: object whose ``snapshot(targets)`` returns
        {compute host: counters text} of the hosts holding ``targets``
        (telemetry.host_argv), read just before and after every run: the
        hosts' side of the contention figures. None: guests only
    :param target_half_width: adaptive repetitions: a level stops
        repeating once, after ``min_repetitions``, every benchmark's
        headline metric has a 95% interval (over the repetition-level
        values) no wider than this fraction of its mean on either side;
        ``repetitions`` is then the most a level runs. None: every level
        runs ``repetitions``. Why each level stopped is in ``adaptive``.
    """

    def __init__(self, targets, benchmarks, levels, repetitions=10,
                 between="drop_caches", reboot=None, command_timeout=3600,
                 barrier_timeout=60, progress=None, timer=None, on_run=None,
                 should_stop=None, done=(), min_repetitions=None,
                 target_half_width=None, host_probe=None):
        if between not in BETWEEN:
            raise exceptions.InvalidArgument(
                "between_repetitions must be one of %s, got %r"
                % (", ".join(BETWEEN), between))
        if between == "reboot" and reboot is None:
            raise exceptions.InvalidArgument(
                "between_repetitions=reboot needs a way to reboot instances")
        if not valid_levels(levels, len(targets)):
            raise exceptions.InvalidArgument(
                "active instance counts must be whole numbers from 1 to %d "
                "(the instances available), got %r" % (len(targets), levels))
        check_adaptive(repetitions, min_repetitions, target_half_width)
        self.target_half_width = target_half_width
        self.min_repetitions = (min(repetitions, min_repetitions or
                                    DEFAULT_MIN_REPETITIONS)
                                if target_half_width else repetitions)
        self.adaptive = {}   # level: {"repetitions", "why", "widths"}
        self.targets = list(targets)
        self.benchmarks = list(benchmarks)
        self.levels = list(levels)
        self.repetitions = repetitions
        self.between = between
        self.reboot = reboot
        self.command_timeout = command_timeout
        self.barrier_timeout = barrier_timeout
        self.progress = progress or LOG.info
        self.timer = timer or (lambda name: contextlib.nullcontext())
        # grows as runs finish: nothing is lost on error
        self.runs = [r for r in done
                     if not any(i.get("error") for i in r["instances"])]
        self._done = {(r["level"], r["repetition"], r["benchmark"])
                      for r in self.runs}
        self.on_run = on_run or (lambda runs: None)
        self.should_stop = should_stop or (lambda: None)
        self.stopped = None
        self.warnings = []
        self.events = []     # reboots and cache drops that failed
        self.host_probe = host_probe

    def _clocks(self, targets):
        """Estimate each live target's clock offset (in parallel)."""
        def one(target):
            try:
                target.clock = estimate_clock(target.runner)
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

    def run(self):
        self._clocks(self.targets[:max(self.levels)])
        plan = [(level, rep, bench.name) for level in self.levels
                for rep in range(1, self.repetitions + 1)
                for bench in self.benchmarks
                if (level, rep, bench.name) not in self._done]
        if self._done:
            self.progress("resuming: %d run(s) kept from the earlier sweep, "
                          "%d to run" % (len(self._done), len(plan)))
        eta = Estimate(plan)
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
                    self.progress("%s; %s" % (summary(record), left))
            else:
                if self.target_half_width:
                    widths = self.widths(level)
                    self.adaptive[level] = {
                        "repetitions": self.repetitions, "widths": widths,
                        "why": "the most allowed (%d); %s" % (
                            self.repetitions, _widths_text(
                                widths, self.target_half_width))}
        return self.runs

    def widths(self, level):
        """{benchmark: (headline metric, relative 95% half-width or None,
        n)} at ``level``, over the repetition-level values (each the mean
        of the level's instances in that repetition)."""
        out = {}
        for bench in self.benchmarks:
            per_rep = {}
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
                reps, _widths_text(widths, self.target_half_width))}
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
        threads = []
        for target in runnable:
            results[target.name] = {"instance": target.name,
                                    "hypervisor": target.hypervisor}
            thread = threading.Thread(
                target=self._run_one,
                args=(target, bench, barrier, results[target.name], level, rep),
                name="kvm-perf-%s" % target.name, daemon=True)
            threads.append(thread)
        before = self._host_snapshot(runnable)
        with self.timer("%s.%d_instances" % (bench.name, level)):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        after = self._host_snapshot(runnable)
        record["instances"] = [results[t.name] for t in active]
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

    def _run_one(self, target, bench, barrier, out, level, rep):
        out.update({"started_at": None, "finished_at": None,
                    "exit_code": None, "metrics": None, "error": None})
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            out["barrier_broken"] = True  # start anyway; overlap shows it
        out["started_at"] = _now()
        try:
            res = target.runner.run(timed(bench.argv_for(target)),
                                    timeout=self.command_timeout)
        except exceptions.HostUnreachable as e:
            out["finished_at"] = _now()
            out["error"] = "%s: %s" % (target.name, e)
            self._mark_broken(target, level, rep, e)
            return
        except exceptions.KVMPerfError as e:  # timeout
            out["finished_at"] = _now()
            out["error"] = "%s: %s" % (target.name, e)
            if getattr(e, "exit_code", None) == "timeout":
                self._check_stopped(target, bench, out, level, rep)
            return
        except Exception as e:  # never lose the other instances' results
            out["finished_at"] = _now()
            out["error"] = "%s: unexpected %s: %s" % (
                target.name, type(e).__name__, e)
            return
        out["finished_at"] = _now()
        out["exit_code"] = res.exit_code
        stderr, times = split_times(res.stderr)
        stderr, blocks = telemetry.split(stderr)
        out["stdout"], out["stderr"] = res.stdout, stderr
        if len(blocks) == 2:
            seconds = (times[1] - times[0] if times
                       else out["finished_at"] - out["started_at"])
            out["telemetry"] = telemetry.guest_usage(blocks[0], blocks[1],
                                                     seconds)
        if times and target.clock:
            # the guest's own start and end, on our clock
            out["guest_started_at"] = times[0] - target.clock["offset_s"]
            out["guest_finished_at"] = times[1] - target.clock["offset_s"]
            out["clock_uncertainty_s"] = target.clock["uncertainty_s"]
        if res.exit_code != 0:
            out["error"] = "%s: %s exited with %d: %s" % (
                target.name, bench.argv[0], res.exit_code,
                exceptions.last_line(stderr)
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


DEFAULT_MIN_REPETITIONS = 3


def check_adaptive(repetitions, min_repetitions, target_half_width):
    """Adaptive repetitions' arguments, refused when they mean nothing."""
    if target_half_width is None:
        if min_repetitions is not None:
            raise exceptions.InvalidArgument(
                "min_repetitions needs target_half_width (adaptive "
                "repetitions); without it every level runs repetitions")
        return
    if not 0 < target_half_width < 1:
        raise exceptions.InvalidArgument(
            "target_half_width is a fraction of the mean (0.05: a 95%% "
            "interval within +-5%%), got %r" % (target_half_width,))
    if min_repetitions is not None and not 2 <= min_repetitions <= \
            repetitions:
        raise exceptions.InvalidArgument(
            "min_repetitions must be from 2 (an interval needs two) to "
            "repetitions (%d, the most a level runs), got %r"
            % (repetitions, min_repetitions))


def _widths_text(widths, target):
    parts = []
    for bench, (name, half, n) in sorted(widths.items()):
        if name is None:
            parts.append("%s: no headline metric measured" % bench)
        elif half is None:
            parts.append("%s %s: no interval (n = %d)" % (bench, name, n))
        else:
            parts.append("%s %s +-%.1f%% (n = %d)" % (bench, name,
                                                      half * 100, n))
    return "%s; target +-%.1f%%" % (", ".join(parts), target * 100)


def valid_levels(levels, available):
    """Are ``levels`` a non-empty list of whole numbers from 1 to
    ``available``? (The validator, the scenario and the engine ask.)"""
    return isinstance(levels, list) and bool(levels) and not [
        k for k in levels if isinstance(k, bool) or not isinstance(k, int)
        or not 1 <= k <= available]


def parallel(targets, func):
    """func(target) in one thread per live target, all at once; an
    exception marks that target broken with its message (the others go
    on)."""
    def call(target):
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


def summary(record):
    """One line on a finished run: its headline metric in each instance
    and what failed."""
    values, failed = [], 0
    for inst in record["instances"]:
        if inst.get("error"):
            failed += 1
            continue
        found = metrics.headline(inst.get("metrics") or {})
        if found:
            values.append(found)
    parts = ["%s, %d instance(s) at once, repetition %d done"
             % (record["benchmark"], record["level"], record["repetition"])]
    if values:
        name = values[0][0]
        nums = [v for k, v in values if k == name]
        parts.append("%s mean %.6g (per instance: %s)" % (
            name, sum(nums) / len(nums), ", ".join("%.6g" % v for v in nums)))
    if failed:
        parts.append("%d of %d instance run(s) FAILED" % (
            failed, len(record["instances"])))
    return ": ".join(parts[:2]) + "".join("; " + p for p in parts[2:])


class Estimate:
    """Remaining time of a sweep from the runs done so far.

    A run not yet seen at its level is assumed to last as long as the same
    benchmark at the highest level done, scaled by the instance count (k
    instances sharing one host take about k times as long when the shared
    resource is the bottleneck) unless the benchmark runs for a fixed time
    (netperf): a rough figure, labelled as an estimate.
    """

    def __init__(self, plan, fixed_time=lambda bench: bench.startswith(
            "netperf")):
        self.fixed_time = fixed_time
        self.left = list(plan)   # (level, repetition, benchmark) to run
        self.seconds = {}        # (benchmark, level) -> [durations]
        self.between = []        # durations of reboots / cache drops

    def between_done(self, level, rep, seconds):
        if seconds > 0.5 or self.between:
            self.between.append(seconds)

    def done(self, level, rep, bench, seconds):
        self.seconds.setdefault((bench, level), []).append(seconds)
        self.left.remove((level, rep, bench))
        return self.text()

    def _guess(self, bench, level):
        same = self.seconds.get((bench, level))
        if same:
            return sum(same) / len(same)
        seen = sorted(lv for (b, lv) in self.seconds if b == bench)
        if seen:
            ref = self.seconds[(bench, seen[-1])]
            scale = 1.0 if self.fixed_time(bench) else level / seen[-1]
            return sum(ref) / len(ref) * scale
        every = [x for v in self.seconds.values() for x in v]
        return sum(every) / len(every) if every else 0.0

    def remaining(self):
        runs = sum(self._guess(b, lv) for lv, _, b in self.left)
        steps = len({(lv, rep) for lv, rep, _ in self.left})
        between = (sum(self.between) / len(self.between)
                   if self.between else 0.0)
        return runs + steps * between

    def text(self):
        if not self.left:
            return "sweep complete"
        secs = self.remaining()
        return "%d run(s) left, about %s (estimate)" % (
            len(self.left), _duration(secs))


def _duration(seconds):
    minutes = int(round(seconds / 60.0))
    if minutes < 1:
        return "%d s" % round(seconds)
    if minutes < 60:
        return "%d min" % minutes
    return "%d h %02d min" % divmod(minutes, 60)


def failure_message(runs, limit=5):
    """One message naming the instance, level, repetition and cause of
    every failed run (the first ``limit``), or None."""
    failures = [(run, inst) for run in runs for inst in run["instances"]
                if inst.get("error")]
    if not failures:
        return None
    parts = ["%s at %d active instance(s), repetition %d: %s"
             % (run["benchmark"], run["level"], run["repetition"],
                inst["error"]) for run, inst in failures[:limit]]
    more = len(failures) - limit
    return "%d instance run(s) failed: %s%s" % (
        len(failures), "; ".join(parts),
        "; and %d more (see the report)" % more if more > 0 else "")
