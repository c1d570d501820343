"""What of a task's configuration a report may show: an allow-list.

Reports (the kvm-perf page, ratios.json, the NDJSON samples, trends) copy
each workload's arguments and contexts. Redacting keys that look secret
(``password``, ``token``, ...) let ``db_passwd``, ``api_key`` and a token
inside ``install_command`` through, so a report now shows only what the
plugin itself names as safe to show:

- a KVMPerf scenario's arguments: the parameters of its ``run()`` less its
  ``UNREPORTED_ARGS`` (the SSH password; free text that may carry one);
- a kvm-perf context's keys: the properties of its ``CONFIG_SCHEMA`` less
  its ``UNREPORTED_KEYS``;
- any other plugin's (Rally's, rally-openstack's): only numbers, booleans
  and nulls, which carry no secret;

and says which it left out, by name. Key names that look secret are still
redacted inside what is kept (a second line of defence).
"""

import copy
import inspect

from rally import exceptions as rally_exceptions
from rally.task import context
from rally.task import scenario

from rally_kvm_perf.report import collect

# registered, whoever asks
from rally_kvm_perf.task.contexts import baseline  # noqa: F401
from rally_kvm_perf.task.contexts import flavor  # noqa: F401
from rally_kvm_perf.task.contexts import hypervisors  # noqa: F401
from rally_kvm_perf.task.scenarios.kvm_perf import bonnie  # noqa: F401
from rally_kvm_perf.task.scenarios.kvm_perf import fio  # noqa: F401
from rally_kvm_perf.task.scenarios.kvm_perf import host_baseline  # noqa: F401
from rally_kvm_perf.task.scenarios.kvm_perf import netperf  # noqa: F401

LEFT_OUT = collect.LEFT_OUT


def _plugin(base, name):
    try:
        return base.get(name, allow_hidden=True)
    except rally_exceptions.PluginNotFound:
        return None


def _scenario_allowed(name):
    """The argument names KVMPerf scenario ``name`` may show; None for any
    other scenario (numbers and booleans only)."""
    cls = _plugin(scenario.Scenario, name)
    if cls is None or not hasattr(cls, "UNREPORTED_ARGS"):
        return None
    names = set(inspect.signature(cls.run).parameters) - {"self"}
    return names - set(cls.UNREPORTED_ARGS)


def _context_allowed(name):
    cls = _plugin(context.Context, name.split("@")[0])
    if cls is None or not hasattr(cls, "UNREPORTED_KEYS"):
        return None
    names = set((cls.CONFIG_SCHEMA or {}).get("properties") or {})
    return names - set(cls.UNREPORTED_KEYS)


def _harmless(value):
    return value is None or isinstance(value, (bool, int, float))


def keep(config, allowed):
    """(what of ``config`` a report may show, the keys it left out)."""
    if not isinstance(config, dict):
        return ({}, []) if config is not None else (None, [])
    kept, left = {}, []
    for key, value in config.items():
        if (key in allowed) if allowed is not None else _harmless(value):
            kept[key] = collect.redact(value)
        else:
            left.append(str(key))
    return kept, sorted(left)


def tasks(tasks_results):
    """A copy of Rally's tasks results with every workload's "args" and
    "contexts" cut down to what may be shown, and what was left out under
    LEFT_OUT ("argument" or "context.key" names)."""
    out = copy.deepcopy(tasks_results)
    for task in out:
        for subtask in task.get("subtasks") or []:
            for wl in subtask.get("workloads") or []:
                args, left = keep(wl.get("args") or {},
                                  _scenario_allowed(wl.get("name")))
                contexts = {}
                for name, config in (wl.get("contexts") or {}).items():
                    contexts[name], gone = keep(config,
                                                _context_allowed(name))
                    left += ["%s.%s" % (name, key) for key in gone]
                wl["args"], wl["contexts"] = args, contexts
                wl[LEFT_OUT] = left
    return out
