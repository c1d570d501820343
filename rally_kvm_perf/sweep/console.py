"""Why an instance never answered SSH, read from its console log.

"No console output" (nothing booted: a broken image or boot loader) is a
different problem from "the guest could not fetch its metadata" (no key was
injected) or "sshd started, key refused": the sweep's error says which, with
the console's last lines as evidence. Pure functions; the scenario fetches
the log (nova's console output).
"""

import re

TAIL_LINES = 15

# (pattern, verdict), most specific first; the first that matches wins
_CAUSES = (
    (r"No configuration file found|Boot failed|No bootable device|"
     r"not a bootable disk|Could not find kernel image",
     "the boot loader found nothing to boot (image without a working boot "
     "loader or kernel)"),
    (r"Kernel panic|VFS: Unable to mount root|Gave up waiting for root",
     "the kernel could not start the system (root filesystem not found or "
     "kernel panic)"),
    (r"-----BEGIN SSH HOST KEY KEYS-----\s*-----END SSH HOST KEY KEYS-----",
     "the guest printed no SSH host keys: sshd cannot start (keys lost, "
     "e.g. by a hard reboot right after first boot)"),
    (r"Failed to start .*OpenSSH|sshd.*(error|fatal)|ssh\.service.*failed",
     "the guest booted but sshd failed to start"),
    (r"No datasource found|Giving up on (OpenStack|EC2) md|"
     r"Failed to get metadata|DataSourceNone|"
     r"url_helper.*(failed|Max retries)",
     "the guest could not fetch its metadata (no SSH key was injected: check "
     "the config drive or the metadata service)"),
    (r"Authentication (refused|failed)|Invalid user",
     "sshd is up but refused the login (wrong user or key)"),
)


def tail(text: str | None, lines: int = TAIL_LINES) -> list[str]:
    """The last non-empty lines of a console log, control codes removed."""
    clean = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]", "",
                   text or "")
    kept = [line.rstrip() for line in clean.splitlines() if line.strip()]
    return kept[-lines:]


def diagnose(text: str | None, ssh_error: str | None = None) -> str:
    """One sentence on why the guest did not answer SSH."""
    if text is None or not tail(text):
        return ("no console output: the guest did not boot (nothing reached "
                "its serial console: check the image's boot loader)")
    for pattern, verdict in _CAUSES:
        if re.search(pattern, text, re.IGNORECASE):
            return verdict
    if ssh_error and re.search(r"Authentication|auth", ssh_error, re.I):
        return "sshd is up but refused the login (wrong user or key)"
    if re.search(r"login:", text):
        return ("the guest booted to a login prompt but SSH did not answer "
                "(security group, network, or sshd)")
    return ("the guest started to boot but reached no login prompt "
            "(still booting: a longer ssh_timeout may help)")


def evidence(text: str | None, ssh_error: str | None = None,
             lines: int = TAIL_LINES) -> str:
    """The diagnosis with the console's last lines, for an error message."""
    last = tail(text, lines)
    out = diagnose(text, ssh_error)
    if ssh_error:
        out += "; last SSH error: %s" % ssh_error
    if last:
        out += "; console (last %d lines): %s" % (len(last),
                                                    " | ".join(last))
    return out
