"""A test-only Rally scenario: replays an iteration output recorded from a
real KVMPerf sweep, so that the SLAs and reports can be run through a real
``rally task start`` without a cloud. Loaded with ``--plugin-paths``."""

import json

from rally.task import scenario


@scenario.configure(name="KVMPerfTest.replay")
class Replay(scenario.Scenario):

    def run(self, path):
        """Emit the recorded output of one iteration.

        :param path: JSON file written with KVM_PERF_RECORD
        """
        with open(path) as f:
            recorded = json.load(f)
        for chart in recorded["output"]["complete"]:
            self.add_output(complete=chart)
        for chart in recorded["output"]["additive"]:
            self.add_output(additive=chart)
