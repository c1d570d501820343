"""Exceptions raised by rally-kvm-perf.

Every error carries a message meant for an operator: it names what was wrong
(the offending line, argument, host or command) rather than how the code failed.
"""


class KVMPerfError(Exception):
    """Base class of every rally-kvm-perf error."""


class ParseError(KVMPerfError, ValueError):
    """Benchmark output could not be parsed; the message names the line."""


class InvalidArgument(KVMPerfError, ValueError):
    """A benchmark or task argument is invalid; the message names it."""


class CommandFailed(KVMPerfError):
    """A command on a host or instance failed (non-zero exit or timeout)."""

    def __init__(self, where, command, exit_code, stderr="", stdout=""):
        self.where = where
        self.command = command
        self.exit_code = exit_code
        self.stderr = stderr
        self.stdout = stdout
        detail = last_line(stderr) or last_line(stdout) or "no output"
        super().__init__(
            "%s: command %r exited with %s: %s"
            % (where, command, exit_code, detail))


class SweepFailed(KVMPerfError):
    """A sweep could not measure all it was asked to (an instance that did
    not boot or answer, a run that failed, a placement not honoured); what
    it did measure is in the report."""


class HostUnreachable(KVMPerfError):
    """A host (or a netserver on it) cannot be reached."""


def last_line(text):
    """The line of a tool's output that says what went wrong: the last one,
    or, when the tool printed its usage after the error (bonnie++: 'Can't
    change to directory ...', then usage, then 'Version: 2.00a'), the last
    one before the usage."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    usage = [i for i, ln in enumerate(lines) if ln.lower().startswith("usage:")]
    if usage and usage[0] > 0:
        return lines[usage[0] - 1]
    return lines[-1] if lines else ""


def excerpt(text, limit=200):
    """A bounded, quoted excerpt of some output, for parse errors."""
    text = (text or "").strip()
    if not text:
        return "<empty>"
    return repr(text if len(text) <= limit else text[:limit] + "...")


class HostKeyRefused(HostUnreachable):
    """The host's SSH key is not the one filed for it in known_hosts."""
