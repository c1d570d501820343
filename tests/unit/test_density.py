"""The density answer on synthetic sweeps: inside the measured levels,
extrapolated beyond them, never reached, and no answer at all."""

import pytest

from rally_kvm_perf import columns
from rally_kvm_perf.analysis import density


def _points(ratios, half=0.02, start=1):
    return [(k, r, None if half is None else r - half,
             None if half is None else r + half)
            for k, r in enumerate(ratios, start)]


def test_inside_the_measured_levels_with_its_interval():
    found = density.answer(_points([0.95, 0.9, 0.85, 0.78, 0.7]))
    # 3 is shown at or above 0.8 (its interval 0.83-0.87), 4 is not shown
    # below (0.76-0.80), 5 is (0.68-0.72)
    assert (found["instances"], found["low"], found["high"]) == (3, 3, 4)
    assert not found["extrapolated"]
    assert "falls below 0.8 at 4 instances" in found["how"]


def test_a_later_level_back_above_the_threshold_does_not_count():
    found = density.answer(_points([0.9, 0.75, 0.85, 0.82]))
    assert found["instances"] == 1


def test_beyond_the_measured_levels_is_extrapolated_from_the_fit():
    found = density.answer(_points([0.98, 0.96, 0.94]),
                           fit={"slope": -0.02, "intercept": 1.0})
    # the line reaches 0.8 at 10 instances; nothing above 3 was measured
    assert found["instances"] == 10 and found["extrapolated"]
    assert (found["low"], found["high"]) == (3, None)
    assert "extrapolated" in found["how"]


def test_never_reached_without_a_fall_is_at_least_the_last_level():
    found = density.answer(_points([0.95, 0.96, 0.95]),
                           fit={"slope": 0.001, "intercept": 0.95})
    assert found["instances"] == 3 and not found["extrapolated"]
    assert found["high"] is None and "at least 3" in found["how"]


def test_below_the_threshold_at_one_instance_is_none_per_host():
    found = density.answer(_points([0.5, 0.4]))
    assert found["instances"] == 0 and found["low"] == 0
    assert "falls below 0.8 at 1 instances" in found["how"]
    # the fewest measured is 2: fewer may or may not hold
    found = density.answer(_points([0.5, 0.4], start=2))
    assert found["instances"] is None and "at 2 instances" in found["how"]


def test_without_intervals_nothing_is_shown_and_nothing_excluded():
    found = density.answer(_points([0.95, 0.9, 0.7], half=None))
    assert (found["instances"], found["low"], found["high"]) == (2, 0, None)


def test_threshold_is_the_users():
    pts = _points([0.95, 0.9, 0.85, 0.78, 0.7])
    assert density.answer(pts, threshold=0.9)["instances"] == 2
    assert density.answer(pts, threshold=0.6)["instances"] == 5


def test_rows_from_a_record_take_the_headline_metrics():
    levels = [{"benchmark": "netperf:TCP_STREAM", "metric": name,
               "active": k, "vm_host_ratio": r, "ratio_ci_low": r - 0.01,
               "ratio_ci_high": r + 0.01}
              for name in ("throughput_mbps", "local_cpu_pct")
              for k, r in ((1, 0.9), (2, 0.7))]
    fits = [{"benchmark": "netperf:TCP_STREAM", "metric": "throughput_mbps",
             "fitted": "ratio", "slope": -0.2, "intercept": 1.1}]
    [row] = density.rows(levels, fits, threshold=0.8)
    assert row["metric"] == "throughput_mbps" and row["instances"] == 1
    assert row["levels_measured"] == [1, 2] and row["threshold"] == 0.8
    assert set(row) == set(columns.DENSITY)


def test_no_ratio_no_answer():
    found = density.answer([(1, None, None, None)])
    assert found["instances"] is None and found["how"] == \
        "no ratio at any level"


@pytest.mark.parametrize("ratios", [[0.95, 0.9, 0.85, 0.78, 0.7],
                                    [0.99, 0.7], [0.81, 0.8, 0.79]])
def test_the_interval_holds_the_answer(ratios):
    found = density.answer(_points(ratios, half=0.05))
    high = found["high"] if found["high"] is not None else 99
    assert found["low"] <= found["instances"] <= high
