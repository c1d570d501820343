"""What a person reads of a sweep as it runs: a line per finished run,
the time left, the intervals adaptive repetitions wait on, and the one
message that names every failed run."""

from collections.abc import Callable
from collections.abc import Iterable

from rally_kvm_perf import metrics


def summary(record: dict) -> str:
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


def widths_text(widths: dict, target: float) -> str:
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


class Estimate:
    """Remaining time of a sweep from the runs done so far.

    A run not yet seen at its level is assumed to last as long as the same
    benchmark at the highest level done, scaled by the instance count (k
    instances sharing one host take about k times as long when the shared
    resource is the bottleneck) unless the benchmark runs for a fixed time
    (netperf): a rough figure, labelled as an estimate.
    """

    def __init__(self, plan: Iterable[tuple[int, int, str]],
                 fixed_time: Callable[[str], bool] = lambda bench:
                 bench.startswith("netperf")) -> None:
        self.fixed_time = fixed_time
        # (level, repetition, benchmark) to run
        self.left: list[tuple[int, int, str]] = list(plan)
        # (benchmark, level) -> [durations]
        self.seconds: dict[tuple[str, int], list[float]] = {}
        self.between: list[float] = []  # durations of reboots / drops

    def between_done(self, level: int, rep: int, seconds: float) -> None:
        if seconds > 0.5 or self.between:
            self.between.append(seconds)

    def done(self, level: int, rep: int, bench: str, seconds: float) -> str:
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

    def remaining(self) -> float:
        runs = sum(self._guess(b, lv) for lv, _, b in self.left)
        steps = len({(lv, rep) for lv, rep, _ in self.left})
        between = (sum(self.between) / len(self.between)
                   if self.between else 0.0)
        return runs + steps * between

    def text(self) -> str:
        if not self.left:
            return "sweep complete"
        secs = self.remaining()
        return "%d run(s) left, about %s (estimate)" % (
            len(self.left), duration(secs))


def duration(seconds: float) -> str:
    minutes = int(round(seconds / 60.0))
    if minutes < 1:
        return "%d s" % round(seconds)
    if minutes < 60:
        return "%d min" % minutes
    return "%d h %02d min" % divmod(minutes, 60)


def failure_message(runs: Iterable[dict], limit: int = 5) -> str | None:
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
