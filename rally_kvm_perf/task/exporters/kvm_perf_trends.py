"""The ``kvm-perf-trends`` task exporter: ratios over many tasks."""

from rally.task import exporter

from rally_kvm_perf.report import trends
from rally_kvm_perf.task import reportable
from rally_kvm_perf.task.exporters import kvm_perf


@exporter.configure("kvm-perf-trends")
class KVMPerfTrendsExporter(exporter.TaskExporter):
    """VM/host ratios over several tasks, with a regression verdict.

    ``rally task export --uuid A B C --type kvm-perf-trends --to DIR`` writes
    DIR/trends.html (per sweep, benchmark and metric: each run's ratio with
    its 95% interval, oldest first, one line per instance count) and
    DIR/trends.json. The newest task is tested against the ones before it
    (Welch's test on repetition-level ratios, the earlier runs pooled): a
    significant drop is flagged as a regression with its size and interval.
    For a CI gate, ``rally-kvm-perf trends`` reads the same tasks from
    ``rally task report --json`` files and exits 1 on a regression. The
    page loads nothing from the network.
    """

    def generate(self):
        return kvm_perf.in_directory(self, trends.build(
            reportable.tasks(self.tasks_results)),
                                     "trends.html")
