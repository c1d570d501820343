"""Every sample the instances measured, with what it depended on, as
Elasticsearch / OpenSearch bulk NDJSON (an action line before each
document): ``curl -H 'Content-Type: application/x-ndjson' --data-binary
@samples.ndjson http://ES:9200/_bulk`` loads it as it is. Rally's own
``elastic`` exporter drops scenario output, so none of these numbers would
get there.

One document per instance, run and metric: the value (None where the tool
could not time it; a failed run is a document with its error and no
metric), the level's host mean and VM/host ratio, the task and workload,
the sweep's parameters (image, flavor and its extra specs, placement,
repetitions), the compute host's facts (EPT/NPT state, CPU, kernel,
hypervisor version), the instance's pinning as libvirt showed it, and the
tool versions. Documents carry an ``_id`` of their own: loading the file
twice does not duplicate them.
"""

import datetime
import json

from rally_kvm_perf import results
from rally_kvm_perf.report import collect

INDEX = "rally-kvm-perf-samples"
TOOLS_NOTE = "tools in the instances: "


def _iso(epoch):
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(
        epoch, datetime.timezone.utc).isoformat()


def documents(tasks_results):
    """(_id, document) of every sample in the tasks' sweep iterations."""
    for task in tasks_results:
        for s_index, subtask in enumerate(task.get("subtasks") or [], 1):
            for w_index, wl in enumerate(subtask.get("workloads") or [], 1):
                contexts = wl.get("contexts") or {}
                workload = {
                    "task": task.get("uuid"),
                    "task_created_at": task.get("created_at"),
                    "subtask": subtask.get("title"),
                    "scenario": wl.get("name"),
                    "optimised": collect._optimised(contexts)
                    or "not optimised",
                    "contexts": collect.redact(contexts),
                    "left_out": wl.get(collect.LEFT_OUT) or []}
                with results.reading(task, wl):
                    for i, iteration in enumerate(wl.get("data") or [], 1):
                        yield from _iteration(
                            iteration, dict(workload, iteration=i),
                            "%s-%d-%d-%d" % (task.get("uuid"), s_index,
                                             w_index, i))


def _iteration(iteration, workload, prefix):
    record = results.from_iteration(iteration)
    if record is None:
        return
    hosts = {}
    for row in results.iteration_hosts(iteration, record):
        hosts.setdefault(row.get("host"), row)
    pins = {row.get("instance"): row
            for row in results.iteration_pinning(iteration, record)}
    tools = [note[len(TOOLS_NOTE):] for note in record.get("notes") or []
             if note.startswith(TOOLS_NOTE)]
    levels = {(r["benchmark"], r["metric"], r["active"]): r
              for r in record.get("levels") or []}
    for n, sample in enumerate(results.sample_dicts(record)):
        level = levels.get((sample["benchmark"], sample["metric"],
                            sample["active"])) or {}
        doc = dict(workload, **sample)
        doc.update({
            "@timestamp": _iso(sample.get("started_at")),
            "level_host_mean": level.get("host_mean"),
            "level_vm_mean": level.get("vm_mean"),
            "level_ratio": level.get("vm_host_ratio"),
            "parameters": record.get("parameters"),
            "compute_host": hosts.get(sample.get("hypervisor")),
            "pinning": pins.get(sample.get("instance")),
            "tools": tools[0] if tools else None})
        yield "%s-%d" % (prefix, n), doc


def bulk(tasks_results, index=INDEX):
    """The bulk NDJSON text ('' when the tasks hold no samples)."""
    lines = []
    for _id, doc in documents(tasks_results):
        lines.append(json.dumps({"index": {"_index": index, "_id": _id}}))
        lines.append(json.dumps(doc, sort_keys=True))
    return "".join(line + "\n" for line in lines)
