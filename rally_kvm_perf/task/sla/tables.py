"""Read the sweep's tables back from an iteration's Rally output (pure).

The KVMPerf scenarios can only give Rally charts; the SLAs (and the
exporter) read the per-level, scaling and concurrency tables by title.
"""

from rally_kvm_perf.task import charts

_LEVEL_PREFIX, _LEVEL_SUFFIX = charts.LEVEL_TITLE.split("%s")


def _rows(chart):
    cols = chart["data"]["cols"]
    return [{c: (None if v == "n/a" else v) for c, v in zip(cols, row)}
            for row in chart["data"]["rows"]]


def _complete(iteration):
    return (iteration.get("output") or {}).get("complete") or []


def level_rows(iteration):
    """Rows of every benchmark's per-level table, with "Benchmark" added."""
    rows = []
    for chart in _complete(iteration):
        title = chart.get("title", "")
        if chart.get("chart_plugin") == "Table" and title.endswith(
                _LEVEL_SUFFIX) and title.startswith(_LEVEL_PREFIX):
            bench = title[len(_LEVEL_PREFIX):-len(_LEVEL_SUFFIX)]
            for row in _rows(chart):
                row["Benchmark"] = bench
                rows.append(row)
    return rows


def table_rows(iteration, title):
    for chart in _complete(iteration):
        if chart.get("title") == title and chart.get("chart_plugin") == "Table":
            return _rows(chart)
    return []


def fit_rows(iteration):
    return table_rows(iteration, charts.FIT_TITLE)


def overlap_rows(iteration):
    return table_rows(iteration, charts.OVERLAP_TITLE)
