"""Rally imports every plugin at each start of its command line (``rally
task start``, ``task report``, ``plugin show``, ...): what the package
imports at module level, every ``rally`` command pays. matplotlib (about
0.8 of the 2.9 s a ``rally plugin show`` took, measured) and the statistics
libraries wait for the first figure or test that needs them."""

import subprocess
import sys

HEAVY = ("matplotlib", "scipy", "statsmodels")


def _loaded_after(code):
    proc = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint(' '.join("
         "sorted(m for m in %r if m in sys.modules)))" % (HEAVY,)],
        capture_output=True, text=True, timeout=300, check=True)
    return proc.stdout.split()


def test_loading_rallys_plugins_imports_no_drawing_or_statistics_library():
    assert _loaded_after(
        "from rally import plugins\nplugins.load()\n"
        "from rally.task import exporter\n"
        "assert exporter.TaskExporter.get('kvm-perf')\n"
        "assert exporter.TaskExporter.get('kvm-perf-trends')") == []


def test_the_check_sees_a_library_that_is_imported():
    """The same check on code that draws: matplotlib is found, so the
    check above cannot pass for want of looking."""
    assert "matplotlib" in _loaded_after(
        "from rally_kvm_perf.report import render\n"
        "fig, ax = render.pyplot().subplots()\nrender._svg(fig)")
