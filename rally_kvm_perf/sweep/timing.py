"""When a run really ran, by the instance's own clock.

Each run is wrapped so that the instance itself notes when the benchmark
started and ended: the client's barrier only says when the SSH requests
left, not when bonnie++/netperf began under load. Its kernel counters are
read just before and just after (telemetry.py): the run's steal, iowait,
disk and NIC figures, with nothing running beside the benchmark. The
guest's clock is set against ours from SSH round trips.
"""

from collections.abc import Iterable
from collections.abc import Sequence
import time
import typing as t
from typing import NamedTuple
from typing import Optional

from rally_kvm_perf import telemetry


def now() -> float:
    """Our clock (seconds since the epoch): what the guests' are set
    against."""
    return time.time()


TIMES_MARK = "KVMPERF-TIMES"
# r: when the command reached the guest (how long the SSH command took to
# arrive is the next level's lead); the counters are read, then s and e
# bracket the benchmark alone
_ARRIVED = "r=$(date +%s.%N); "
_TIMED = ('b=$(%s); s=$(date +%%s.%%N); "$@"; rc=$?; e=$(date +%%s.%%N); '
          'a=$(%s); printf "%%s\\n" "$b" "$a" >&2; '
          'echo "%s $s $e $r" >&2; exit $rc'
          % (telemetry.snapshot_script(), telemetry.snapshot_script(),
             TIMES_MARK))
# The k runs of a level start at one planned moment, each by its guest's
# own clock: an SSH command reaches a guest on a loaded host seconds
# later than another's, and the skew of a 5 s run would be its overlap.
# $1 is the moment (guest time); the wait is at most MAX_WAIT_S, and a
# command that arrives late starts at once (its skew is then measured).
MAX_WAIT_S = 30
_AT = ('d=$(awk -v g="$1" -v n="$r" -v m=%d '
       "'BEGIN { d = g - n; if (d > m) d = m; if (d > 0) printf \"%%.3f\", d; "
       "else printf \"0\" }'); shift; sleep \"$d\"; " % MAX_WAIT_S)


class Times(NamedTuple):
    """One run's moments by its guest's clock."""

    started: float
    finished: float
    arrived: Optional[float] = None  # the command reached the guest


def timed(argv: Sequence[str], start_at: float | None = None) -> list[str]:
    """argv run under the in-guest timing wrapper (no shell injection: the
    benchmark's words stay positional parameters); ``start_at``: the
    moment, by the guest's clock, to start it at (None: at once)."""
    if start_at is None:
        return ["sh", "-c", _ARRIVED + _TIMED, "sh"] + list(argv)
    return (["sh", "-c", _ARRIVED + _AT + _TIMED, "sh", "%.6f" % start_at]
            + list(argv))


# the planned start's lead, seconds: at least (a quiet guest), at most (a
# level never waits longer for its start than this)
MIN_LEAD_S = 1.0
MAX_LEAD_S = 10.0


def start_lead(clocks: Sequence[dict], late: float = 0.0,
               reach: float = 0.0) -> float:
    """Seconds from now to a level's planned start: time enough for the
    SSH commands to reach every guest -- four half round trips of the
    slowest guest; twice the longest time a command of the last level
    took to reach its guest (``reach``: a loaded host answers slower than
    its round trips say, and the next level loads it more); twice how late
    the last level's latest run began (``late``) -- within
    [MIN_LEAD_S, MAX_LEAD_S]."""
    slowest = max((c["uncertainty_s"] for c in clocks), default=0.0)
    return min(max(MIN_LEAD_S, 4.0 * slowest, 2.0 * late, 2.0 * reach),
               MAX_LEAD_S)


def start_moment(clocks: Sequence[dict | None], late: float,
                 reach: float = 0.0) -> float | None:
    """When (our clock) the k runs of a level are to start, each by its
    guest's clock (``clocks``: each target's, None where unknown); None
    for one instance, or where no guest clock is known (they start as
    their commands arrive)."""
    known = [c for c in clocks if c]
    if len(clocks) < 2 or not known:
        return None
    return now() + start_lead(known, late, reach)


def lateness(instances: Iterable[dict], go: float) -> float:
    """How long after its planned moment the latest run began (0: none
    late), for the next level's lead."""
    return max([i["guest_started_at"] - go for i in instances
                if i.get("guest_started_at") is not None] + [0.0])


def reach(instances: Iterable[dict]) -> float:
    """The longest time a command of this level took to reach its guest
    (sent: ``started_at``; arrived: ``guest_arrived_at``, our clock), 0
    where none is known."""
    return max([i["guest_arrived_at"] - i["started_at"] for i in instances
                if i.get("guest_arrived_at") is not None
                and i.get("started_at") is not None] + [0.0])


def on_our_clock(times: Times | None, clock: dict | None) -> dict:
    """The run's guest moments on our clock, for its record ({} without
    both): guest_started_at, guest_finished_at, guest_arrived_at (where
    the guest said) and clock_uncertainty_s."""
    if not times or not clock:
        return {}
    out = {"guest_started_at": times.started - clock["offset_s"],
           "guest_finished_at": times.finished - clock["offset_s"],
           "clock_uncertainty_s": clock["uncertainty_s"]}
    if times.arrived is not None:
        out["guest_arrived_at"] = times.arrived - clock["offset_s"]
    return out


def split_times(stderr: str | None) -> tuple[str, Times | None]:
    """(stderr without the timing line, Times in guest time or None)."""
    kept, times = [], None
    for line in (stderr or "").splitlines(True):
        parts = line.split()
        if len(parts) in (3, 4) and parts[0] == TIMES_MARK:
            try:
                times = Times(*(float(p) for p in parts[1:]))
            except ValueError:
                kept.append(line)
            continue
        kept.append(line)
    return "".join(kept), times


def unwrap(stderr: str | None, seconds: float | None = None,
           ) -> tuple[str, Times | None, dict | None]:
    """What the wrapper (timed) added to a command's stderr, taken out:
    (the command's own stderr, its Times by the guest's clock or None,
    the guest's counters over the run or None). ``seconds``: the run's
    length where the guest did not say it."""
    stderr, times = split_times(stderr)
    stderr, blocks = telemetry.split(stderr)
    usage = None
    if len(blocks) == 2:
        if times:
            seconds = times.finished - times.started
        usage = telemetry.guest_usage(blocks[0], blocks[1], seconds)
    return stderr, times, usage


def estimate_clock(runner: t.Any, samples: int = 5) -> dict | None:
    """The guest clock's offset to ours from SSH round trips: the sample
    with the shortest round trip, offset = guest - midpoint, uncertainty =
    half that round trip (the guest read its clock somewhere inside it)."""
    best = None
    for _ in range(samples):
        t0 = now()
        res = runner.run(["date", "+%s.%N"], timeout=60)
        t1 = now()
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
