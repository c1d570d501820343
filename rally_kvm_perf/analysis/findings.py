"""The paper's findings as verdicts on the user's own sweeps.

Li, Cui and Li (2016) concluded, from their Figs. 2-5 and 7:

1. CPU: the instances' CPU utilisation stays close to the host's at every
   level ("a loss under 10 %");
2. disk: near parity at 1 instance, then a linear fall with the count;
3. TCP_STREAM: near parity at 1 instance, then a linear fall;
4. UDP_STREAM: the same, the fall steeper than TCP_STREAM's;
5. vCPU pinning with EPT: CPU +3-5 %, disk I/O +7-10 %, network unchanged.

Each verdict is "holds", "does not hold" or "cannot tell" (and what would
settle it), and shows the statistic it rests on with its 95 % interval.
The burden of proof is on the data, as in the SLAs: a claim holds where
the intervals show it, does not hold where they show the opposite.
Findings 1-4 read one sweep's results record (level and fit rows);
finding 5 reads a before/after comparison (report/collect.compare).
"""

from collections.abc import Iterable
import math

from rally_kvm_perf import metrics
from rally_kvm_perf import telemetry
from rally_kvm_perf.analysis import stats

HOLDS, FAILS, UNSURE = "holds", "does not hold", "cannot tell"
# near parity: a loss under 10 % (the paper's words for the CPU)
PARITY_MARGIN = 0.10
# linearity needs a knee test, which needs this many levels
MIN_LINEAR_LEVELS = 5
# finding 5: the paper's gains, and "unchanged" within +-5 %
CPU_GAIN = (0.03, 0.05)
DISK_GAIN = (0.07, 0.10)
UNCHANGED_MARGIN = 0.05

CLAIMS = {
    1: "CPU: instances' CPU utilisation within 10 % of the host's at every "
       "level (Fig. 2)",
    2: "disk: near parity at 1 instance, then a linear fall (Fig. 3)",
    3: "TCP_STREAM: near parity at 1 instance, then a linear fall (Fig. 4)",
    4: "UDP_STREAM: near parity at 1 instance, then a linear fall steeper "
       "than TCP_STREAM's (Fig. 5)",
    5: "pinning with EPT: CPU +3-5 %, disk I/O +7-10 %, network unchanged "
       "(Fig. 7)",
}


def combine(verdicts: Iterable[str | None]) -> str:
    """One verdict of several parts: does not hold if any part does not,
    holds if all do, else cannot tell (None parts are left out)."""
    verdicts = [v for v in verdicts if v is not None]
    if not verdicts:
        return UNSURE
    if FAILS in verdicts:
        return FAILS
    return HOLDS if all(v == HOLDS for v in verdicts) else UNSURE


def at_least(low: float | None, high: float | None, limit: float) -> str:
    """An interval against "at least ``limit``"."""
    if low is None or high is None:
        return UNSURE
    if low >= limit:
        return HOLDS
    return FAILS if high < limit else UNSURE


def _interval(value, low, high):
    if value is None:
        return "n/a"
    if low is None or high is None:
        return "%.3g (no interval)" % value
    return "%.3g [%.3g, %.3g]" % (value, low, high)


def _rows(levels, bench, metric):
    return sorted((r for r in levels if r["benchmark"] == bench
                   and r["metric"] == metric and r["vm_host_ratio"] is not None),
                  key=lambda r: r["active"])


def _fit(fits, bench, metric):
    return next((f for f in fits if f["benchmark"] == bench
                 and f["metric"] == metric and f.get("fitted") == "ratio"),
                None)


def _curve(levels, fits, bench, metric):
    """Near parity at 1 instance, a fall, and linear: (verdict, the
    statistic's text) of one metric's ratio curve."""
    rows = _rows(levels, bench, metric)
    if not rows:
        return None, "%s %s: no ratio" % (bench, metric)
    first = rows[0]
    parity = (at_least(first["ratio_ci_low"], first["ratio_ci_high"],
                       1.0 - PARITY_MARGIN)
              if first["active"] == 1 else UNSURE)
    fit = _fit(fits, bench, metric)
    low = fit and fit.get("slope_ci_low")
    high = fit and fit.get("slope_ci_high")
    if low is None or high is None:
        falls = UNSURE
    else:
        falls = HOLDS if high < 0 else FAILS if low >= 0 else UNSURE
    if len(rows) < MIN_LINEAR_LEVELS:
        linear, knee_text = UNSURE, "linearity needs %d levels, %d measured" \
            % (MIN_LINEAR_LEVELS, len(rows))
    else:
        knee = telemetry.knee([(r["active"], r["vm_host_ratio"]) for r in rows])
        linear = FAILS if knee else HOLDS
        knee_text = ("a knee at %d instances (p %.3g)"
                     % (knee["level"], knee["p_value"]) if knee
                     else "no knee (sup-F p >= 0.05)")
    text = "%s %s: ratio at %d %s (parity within %g %%: %s); slope %s " \
        "per instance (a fall: %s); %s (linear: %s)" % (
            bench, metric, first["active"],
            _interval(first["vm_host_ratio"], first["ratio_ci_low"],
                      first["ratio_ci_high"]),
            100 * PARITY_MARGIN, parity,
            _interval(fit and fit.get("slope"), low, high), falls,
            knee_text, linear)
    return combine([parity, falls, linear]), text


def _settle(verdict):
    return (None if verdict != UNSURE else
            "more repetitions narrow the intervals; at least %d levels "
            "test the line" % MIN_LINEAR_LEVELS)


def _verdict(number, verdict, statistics):
    return {"finding": number, "claim": CLAIMS[number], "verdict": verdict,
            "statistic": "; ".join(statistics), "settle": _settle(verdict)}


def cpu(levels: list[dict]) -> dict:
    """Finding 1: every level's oriented CPU ratio (host/VM) at or above
    1 / (1 + 10 %), for the paper's bonnie++ CPU columns."""
    parts, texts = [], []
    for name in metrics.PAPER_CPU:
        rows = _rows(levels, "bonnie++", name)
        if not rows:
            continue
        for r in rows:
            parts.append(at_least(r["ratio_ci_low"], r["ratio_ci_high"],
                                  1.0 / (1.0 + PARITY_MARGIN)))
        worst = min(rows, key=lambda r: r["vm_host_ratio"])
        texts.append("%s: lowest host/VM ratio %s at %d" % (
            name, _interval(worst["vm_host_ratio"], worst["ratio_ci_low"],
                            worst["ratio_ci_high"]), worst["active"]))
    if not parts:
        return _verdict(1, UNSURE, ["no bonnie++ CPU ratio measured"])
    return _verdict(1, combine(parts), texts)


def disk(levels: list[dict], fits: list[dict]) -> dict:
    """Finding 2: the paper's bonnie++ throughputs."""
    found = [_curve(levels, fits, "bonnie++", name)
             for name in metrics.PAPER_IO]
    found = [(v, t) for v, t in found if v is not None]
    if not found:
        return _verdict(2, UNSURE, ["no bonnie++ ratio measured"])
    return _verdict(2, combine(v for v, _ in found), [t for _, t in found])


def tcp(levels: list[dict], fits: list[dict]) -> dict:
    """Finding 3: TCP_STREAM's throughput."""
    verdict, text = _curve(levels, fits, "netperf:TCP_STREAM",
                           "throughput_mbps")
    return _verdict(3, verdict or UNSURE, [text])


def udp(levels: list[dict], fits: list[dict]) -> dict:
    """Finding 4: UDP_STREAM's throughput, and its slope below
    TCP_STREAM's (the difference's interval: Welch-Satterthwaite over the
    two fits' standard errors)."""
    verdict, text = _curve(levels, fits, "netperf:UDP_STREAM",
                           "throughput_mbps")
    u = _fit(fits, "netperf:UDP_STREAM", "throughput_mbps")
    t = _fit(fits, "netperf:TCP_STREAM", "throughput_mbps")
    steeper, diff = UNSURE, "no TCP_STREAM fit to compare"
    if u and t and u.get("slope_stderr") is not None \
            and t.get("slope_stderr") is not None:
        d = u["slope"] - t["slope"]
        vu, vt = u["slope_stderr"] ** 2, t["slope_stderr"] ** 2
        du, dt = u["levels"] - 2, t["levels"] - 2
        if vu + vt > 0:
            df = (vu + vt) ** 2 / ((vu * vu / du if vu else 0.0)
                                   + (vt * vt / dt if vt else 0.0))
            half = stats.t_quantile(0.975, df) * math.sqrt(vu + vt)
            low, high = d - half, d + half
            steeper = HOLDS if high < 0 else FAILS if low >= 0 else UNSURE
            diff = "UDP slope minus TCP slope %s" % _interval(d, low, high)
        else:
            steeper = HOLDS if d < 0 else FAILS
            diff = "UDP slope minus TCP slope %.3g (exact)" % d
    elif u and t:
        diff = "two levels: no slope interval to compare"
    return _verdict(4, combine([verdict or UNSURE, steeper]),
                    [text, "%s (steeper: %s)" % (diff, steeper)])


def in_range(low: float | None, high: float | None, lo: float,
             hi: float) -> str:
    """A change's interval against the paper's range of gains: holds where
    a gain is shown (the interval above 0) and the range is within reach
    of the interval; does not hold where the interval misses the range."""
    if low is None or high is None:
        return UNSURE
    if high < lo or low > hi:
        return FAILS
    return HOLDS if low > 0 else UNSURE


def unchanged(low: float | None, high: float | None,
              margin: float = UNCHANGED_MARGIN) -> str:
    """Equivalence within +-margin (two one-sided tests at 2.5 % each: the
    95 % interval inside the margin); does not hold where the interval
    lies wholly outside it."""
    if low is None or high is None:
        return UNSURE
    if -margin <= low and high <= margin:
        return HOLDS
    return FAILS if high < -margin or low > margin else UNSURE


def optimisation(rows: list[dict]) -> dict:
    """Finding 5 from one before/after comparison's rows (collect.compare),
    at the largest level both measured."""
    if not rows:
        return _verdict(5, UNSURE, ["no before/after comparison"])
    top = max(r["active_instances"] for r in rows)
    parts, texts = [], []
    for r in rows:
        if r["active_instances"] != top:
            continue
        low, high = _improvement(r)
        if r["benchmark"] == "bonnie++" and r["metric"] in metrics.PAPER_CPU:
            v, what = in_range(low, high, *CPU_GAIN), "gain 3-5 %"
        elif r["benchmark"] == "bonnie++" and r["metric"] in metrics.PAPER_IO:
            v, what = in_range(low, high, *DISK_GAIN), "gain 7-10 %"
        elif r["benchmark"].startswith("netperf:") \
                and r["metric"] == "throughput_mbps":
            v, what = unchanged(low, high), "unchanged within 5 %"
        else:
            continue
        parts.append(v)
        texts.append("%s %s: %s at %d (%s: %s)" % (
            r["benchmark"], r["metric"],
            _interval(r["improvement"], low, high), top, what, v))
    if not parts:
        return _verdict(5, UNSURE, ["none of the paper's metrics compared"])
    return _verdict(5, combine(parts), texts)


def _improvement(row):
    """The change's 95 % interval as improvement (> 0 better)."""
    low, high = row.get("change_ci_low"), row.get("change_ci_high")
    if low is None or high is None:
        return None, None
    if row.get("better") == metrics.LOWER:
        return -high, -low
    return low, high


def from_record(levels: list[dict], fits: list[dict]) -> list[dict]:
    """Findings 1-4 of one sweep's level and fit rows."""
    return [cpu(levels), disk(levels, fits), tcp(levels, fits),
            udp(levels, fits)]
