"""JSON documents on disk: the baselines and the sweeps' records are
written whole or not at all, and a file that cannot be read is an error
that names it."""

import json
import os
import tempfile

from rally_kvm_perf import exceptions


def write_json(path, document):
    """Write atomically: readers never see half a file."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".kvm-perf-", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(document, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_json(path, what):
    """A JSON document from ``path``; InvalidArgument naming ``what`` and
    the cause when it cannot be read."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise exceptions.InvalidArgument(
            "cannot read %s %s: %s" % (what, path, e)) from None
