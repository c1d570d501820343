"""The ``kvm-perf`` task exporter: the paper's figures and the ratios."""

import os

from rally.task import exporter

from rally_kvm_perf.report import render
from rally_kvm_perf.task import reportable


@exporter.configure("kvm-perf")
class KVMPerfExporter(exporter.TaskExporter):
    """Self-contained HTML report plus ratios.csv and ratios.json.

    ``rally task export --uuid A [B] --type kvm-perf --to DIR`` writes
    DIR/index.html (the paper's figures redrawn as inline SVG: bonnie++ CPU
    and I/O, netperf TCP and UDP ratios vs active instances with fitted
    slope and R²; with two workloads of one scenario, e.g. unpinned and
    pinned, the before/after comparison with relative change, its interval,
    Welch's p-value and a verdict per metric; host EPT/NPT state, SLAs,
    notes), DIR/ratios.csv and DIR/ratios.json. The page loads nothing from
    the network.
    """

    def generate(self):
        tasks = reportable.tasks(self.tasks_results)
        return in_directory(self, render.build(tasks), "index.html")


def in_directory(exporter_, files, index):
    """Rally's answer for {file name: content} written into the --to
    directory (made here: Rally writes the files but does not create
    their directory), opening ``index``."""
    if not exporter_.output_destination:
        raise ValueError("the %s exporter writes several files: give a "
                         "directory with --to DIR" % exporter_.get_name())
    os.makedirs(exporter_.output_destination, exist_ok=True)
    out = {os.path.join(exporter_.output_destination, name): content
           for name, content in files.items()}
    page = os.path.join(exporter_.output_destination, index)
    return {"files": out, "open": "file://" + os.path.abspath(page)}
