"""The netserver instances' side of a netperf run (netserver "peer" or
"peers"): their kernel counters read over the same moments as their
clients' run, so that a netserver that sets the pace is seen, not guessed
(contention.netserver_saturation)."""

import typing as t

from rally_kvm_perf.sweep import timing

if t.TYPE_CHECKING:
    from rally_kvm_perf.sweep import engine


def start_at(go: float | None, target: "engine.Target") -> float | None:
    """The planned start by ``target``'s clock, or None (at once)."""
    return go + target.clock["offset_s"] if (
        go is not None and target.clock) else None


def watched(bench: "engine.Benchmark",
            runnable: t.Iterable["engine.Target"]) -> list["engine.Target"]:
    """The netserver instances the ``runnable`` clients of ``bench``
    measure against, each once, those still reachable."""
    if not bench.watched or not bench.seconds:
        return []
    found: dict[str, "engine.Target"] = {}
    for target in runnable:
        peer = bench.watched.get(target.name)
        if peer is not None and not peer.broken:
            found.setdefault(peer.name, peer)
    return list(found.values())


def watch(peer: "engine.Target", seconds: float, start: float | None,
          out: dict) -> None:
    """The netserver instance's kernel counters over the clients' run:
    the same timing wrapper as a benchmark, around a sleep of the run's
    length, started at the same planned moment. Its CPU busy and steal
    say whether the shared netserver, not the clients, set the pace.
    Any failure costs these figures only, said in ``out``."""
    try:
        res = peer.runner.run(
            timing.timed(["sleep", "%g" % seconds], start_at=start),
            timeout=seconds + timing.MAX_WAIT_S + 120)
    except Exception as e:
        out[peer.name] = {"error": "%s: %s" % (peer.name, e)}
        return
    # the guest's own start and end only: no stand-in length
    _stderr, _times, usage = timing.unwrap(res.stderr)
    if res.exit_code != 0:
        usage = None
    out[peer.name] = usage or {
        "error": "%s: no counters (exit %s)" % (peer.name, res.exit_code)}
