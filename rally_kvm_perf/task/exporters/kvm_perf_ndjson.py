"""The ``kvm-perf-ndjson`` task exporter: every sample, bulk-loadable."""

from rally.task import exporter

from rally_kvm_perf.report import ndjson
from rally_kvm_perf.task import reportable


@exporter.configure("kvm-perf-ndjson")
class KVMPerfNDJSONExporter(exporter.TaskExporter):
    """Every measured sample with its metadata as bulk NDJSON.

    ``rally task export --uuid A [B ...] --type kvm-perf-ndjson --to FILE``
    writes one document per instance, run and metric (the value; a failed
    run with its error), each with the level's host mean and ratio, the
    task, the sweep's parameters (image, flavor and extra specs, placement),
    the compute host's facts (EPT/NPT, CPU, kernel, hypervisor version),
    the instance's pinning and the tool versions, each after an
    Elasticsearch/OpenSearch bulk action line with its own _id:
    ``curl -H 'Content-Type: application/x-ndjson' --data-binary @FILE
    http://ES:9200/_bulk`` loads it as it is. Without --to it prints.
    """

    def generate(self):
        text = ndjson.bulk(reportable.tasks(self.tasks_results))
        if not text:
            raise ValueError("no kvm-perf samples in these tasks (sweeps "
                             "recorded before samples were kept have none)")
        if self.output_destination:
            return {"files": {self.output_destination: text},
                    "open": self.output_destination}
        return {"print": text}
