"""Sphinx configuration; the plugin reference is generated at build time
from the plugins' own docstrings (what ``rally plugin show`` prints)."""

import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__),
                                                "..", "..")))

project = "rally-kvm-perf"
copyright = "rally-kvm-perf developers"
extensions = []
master_doc = "index"
exclude_patterns = []
html_theme = "alabaster"

KINDS = (("Scenario", "Scenarios"), ("Context", "Contexts"),
         ("SLA", "SLAs"), ("TaskExporter", "Task exporter"))


def _rst(text):
    return (text or "").replace("*", r"\*").replace("|", r"\|")


def write_reference(app):
    from rally import plugins
    from rally.common.plugin import plugin as rally_plugin

    plugins.load()
    ours = [p for p in rally_plugin.Plugin.get_all()
            if p.__module__.startswith("rally_kvm_perf")]
    lines = ["Plugin reference", "================", "",
             "Generated from the plugins' docstrings; ``rally plugin show "
             "NAME`` prints the same.", ""]
    for base, title in KINDS:
        group = sorted((p for p in ours if any(
            b.__name__ == base for b in p.__mro__)), key=lambda p:
            p.get_name())
        if not group:
            continue
        lines += [title, "-" * len(title), ""]
        for p in group:
            info = p.get_info()
            name = p.get_name()
            lines += [name, "~" * len(name), "", _rst(info["title"]), ""]
            if info.get("description"):
                lines += [_rst(info["description"]), ""]
            params = info.get("parameters") or []
            if params:
                lines += ["Parameters:", ""]
                for param in params:
                    doc = " ".join(_rst(param["doc"]).split())
                    lines += ["``%s``" % param["name"], "    %s" % doc, ""]
            schema = getattr(p, "CONFIG_SCHEMA", None)
            if base != "Scenario" and schema and schema.get("properties"):
                lines += ["Configuration keys: %s" % ", ".join(
                    "``%s``" % k for k in sorted(schema["properties"])), ""]
    with open(os.path.join(os.path.dirname(__file__), "reference.rst"),
              "w") as f:
        f.write("\n".join(lines) + "\n")


def setup(app):
    app.connect("builder-inited", write_reference)
