"""What a sweep (sweep/engine.py) runs and when -- its Schedule -- and how
it acts on and reports to the world around it -- its Hooks: the engine's
arguments as two values a caller builds once."""

import dataclasses
import typing as t

if t.TYPE_CHECKING:
    from rally_kvm_perf.sweep import engine


@dataclasses.dataclass(frozen=True)
class Schedule:
    """What a sweep runs, when, and for how long.

    :param levels: numbers of concurrently active instances, e.g. [1, 2, 3]
    :param repetitions: runs per level
    :param between: "none", "drop_caches" (before every run) or "reboot"
        (before every run but the first; needs Hooks.reboot)
    :param command_timeout: seconds one benchmark command may run
    :param barrier_timeout: seconds the k threads wait for each other
    :param done: run records of an earlier, interrupted sweep with the
        same parameters: those without a failed instance are kept and not
        run again (a repetition is independent of the others: that is
        what makes it the unit of replication)
    :param target_half_width: adaptive repetitions: a level stops
        repeating once, after ``min_repetitions``, every benchmark's
        headline metric has a 95% interval (over the repetition-level
        values) no wider than this fraction of its mean on either side;
        ``repetitions`` is then the most a level runs. None: every level
        runs ``repetitions``. Why each level stopped is in Sweep.adaptive.
    """

    levels: t.Sequence[int]
    repetitions: int = 10
    between: str = "drop_caches"
    command_timeout: float = 3600
    barrier_timeout: float = 60
    done: t.Sequence[dict] = ()
    min_repetitions: int | None = None
    target_half_width: float | None = None


@dataclasses.dataclass(frozen=True)
class Hooks:
    """How a sweep acts on and reports to the world around it (all
    optional).

    :param reboot: callable(targets) that reboots those instances and
        returns when they answer SSH again
    :param progress: callable(str) for progress lines
    :param timer: callable(name) -> context manager (Rally atomic actions)
    :param on_run: callable(runs so far) after every run: where a long
        sweep writes what it has, so that an interruption keeps it
    :param should_stop: callable() -> reason or None, asked before every
        run (``rally task abort``); a reason ends the sweep there, with
        ``stopped`` set to it and every finished run kept
    :param host_probe: object whose ``snapshot(targets)`` returns
        {compute host: counters text} of the hosts holding ``targets``
        (telemetry.host_argv), read just before and after every run: the
        hosts' side of the contention figures. None: guests only
    """

    reboot: t.Callable[[list["engine.Target"]], object] | None = None
    progress: t.Callable[[str], None] | None = None
    timer: t.Callable[[str], t.ContextManager] | None = None
    on_run: t.Callable[[list[dict]], None] | None = None
    should_stop: t.Callable[[], str | None] | None = None
    host_probe: t.Any = None
