"""Exit 1, naming each one, unless every package installed in this Python's
environment is at the version upper-constraints.txt pins (the project
itself and pip's own build tools aside), and `pip check` finds every
requirement met. Run by tools/install.sh after each install: a package
that arrived unpinned (a new requirement someone forgot to pin) or at
another version would make CI test a set that nobody chose.

    python tools/check-constraints.py upper-constraints.txt
"""

from importlib import metadata
import subprocess
import sys

from packaging.utils import canonicalize_name

UNPINNED = {"rally-kvm-perf", "setuptools", "wheel"}


def pinned(path):
    pins = {}
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.split(";")[0].strip()
    return pins


def main(path):
    pins = pinned(path)
    wrong = []
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        if name in UNPINNED:
            continue
        if name not in pins:
            wrong.append("%s %s is installed but not in %s"
                         % (name, dist.version, path))
        elif pins[name] != dist.version:
            wrong.append("%s is %s, %s pins %s"
                         % (name, dist.version, path, pins[name]))
    check = subprocess.run([sys.executable, "-m", "pip", "check"],
                           capture_output=True, text=True)
    if check.returncode:
        wrong.append("pip check: " + check.stdout.strip())
    for line in sorted(wrong):
        print("check-constraints: " + line, file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
