"""Inside the instances: SSH, the end of their boot, the tools, reboots.

``Guests`` reaches every usable instance of a ``fleet.Fleet`` over SSH (an
``engine.Target`` each), waits until the guest's own boot is over, checks
the benchmark tools are there, and reboots instances between repetitions
(the paper's choice) with proof that they really rebooted and how they went
down. An instance that fails any of it is marked broken with the evidence
(its console); the others go on.
"""

import re
import threading
import time
import typing as t

from rally.task import atomic

from rally_kvm_perf import exceptions
from rally_kvm_perf import opts
from rally_kvm_perf.benchmarks import tools
from rally_kvm_perf.host import runner as host_runner
from rally_kvm_perf.sweep import console
from rally_kvm_perf.sweep import engine
from rally_kvm_perf.task.scenarios.kvm_perf import fleet as fleet_mod
from rally_kvm_perf.task.scenarios.kvm_perf import progress

CONF = opts.CONF
# how often the SSH wait asks nova whether the server is still alive
STATUS_POLL_S = 10
# how often a rebooting instance is tried again
REBOOT_POLL_S = 5


class _Counter:
    """k of N, counted from several threads."""

    def __init__(self, total):
        self.total, self._n, self._lock = total, 0, threading.Lock()

    def add(self):
        with self._lock:
            self._n += 1
            return self._n


class Guests:
    """The instances as SSH targets; ``notes`` collects what the report
    must say; ``reboots`` and ``history`` what each reboot did."""

    # The guest's own boot must be over before anything is installed or
    # measured: cloud-init's later stages (packages, user scripts) ran
    # beside the first benchmark, seconds to minutes after sshd answered.
    # Where cloud-init did not start in this boot (not installed, as in the
    # local cloud's image, or disabled: no /run/cloud-init; 'status --wait'
    # would wait for ever), systemd's start-up job queue is waited for
    # instead; with neither there is nothing to wait for.
    BOOT_DONE_ARGV = [
        "sh", "-c",
        "if command -v cloud-init >/dev/null 2>&1 && [ -d /run/cloud-init ]; "
        "then cloud-init status --wait --long; "
        "elif [ -d /run/systemd/system ] && command -v systemctl >/dev/null; "
        "then state=$(systemctl is-system-running --wait); rc=$?; "
        "echo \"systemd: $state\"; "
        "[ $rc = 0 ] || systemctl --failed --no-legend --plain; exit $rc; "
        "else echo 'no cloud-init in this boot'; fi"]
    # a new value at every boot: proof that a reboot really happened
    BOOT_ID_ARGV = ["cat", "/proc/sys/kernel/random/boot_id"]
    # How the guest went down before this boot, from its own journal of
    # that boot (persistent, as Debian's and most cloud images'): an
    # orderly shutdown ends with journald's "Journal stopped"; a power cut
    # (a HARD reboot: nova's fallback when the guest has not shut down
    # within [libvirt] wait_soft_reboot_seconds) ends mid-flight. The boot
    # id follows as "$1".
    LAST_BOOT_ARGV = ["sh", "-c", 'journalctl -b "$1" -o cat --no-pager '
                      '-n 3', "sh"]

    def __init__(self, scenario, fleet: fleet_mod.Fleet, notes: t.List[str],
                 ssh_timeout: t.Optional[float], after_reboot=None):
        self.sc = scenario
        self.fleet = fleet
        self.notes = notes
        self.timeout = ssh_timeout or 300
        # called with (targets still usable, reboot number) after each
        # reboot: the pinning read back on the new domains
        self.after_reboot = after_reboot
        self.reboots = 0
        self.history: t.List[dict] = []

    # -- reach them --

    def connect(self, username, password, port, install_command,
                image) -> t.List[engine.Target]:
        """A target per instance of the fleet, in its order; the broken
        ones carry why."""
        pkey = self.sc.context["user"]["keypair"]["private"]
        targets: t.List[engine.Target] = []
        by_target = {}
        for instance in self.fleet.instances:
            target = engine.Target(instance.name, None,
                                   hypervisor=instance.hypervisor)
            if instance.error is not None:
                target.broken = instance.error
            else:
                target.runner = host_runner.SSHRunner(
                    instance.ip, host_runner.Login(
                        username, pkey=pkey, password=password),
                    port=port, connect_timeout=self.timeout,
                    name=instance.name)
            instance.target = target
            targets.append(target)
            by_target[id(target)] = instance
        live = [tg for tg in targets if not tg.broken]
        progress.say("waiting for SSH on %d instance(s), up to %s s each"
                     % (len(live), self.timeout))
        answered = _Counter(len(live))
        with atomic.ActionTimer(self.sc, "kvm_perf.wait_for_ssh"):
            engine.parallel(targets, lambda tg: self._wait_for_ssh(
                tg, by_target[id(tg)].server, answered))
        with atomic.ActionTimer(self.sc, "kvm_perf.prepare_instances"):
            engine.parallel(targets, lambda tg: self._prepare(
                tg, install_command, image))
        return targets

    def _wait_for_ssh(self, target, server, answered):
        """Until the instance answers SSH. Stops early when nova says the
        server is in ERROR (or stopped); on timeout the error carries the
        console's evidence of why (no output: it never booted; cloud-init
        without metadata; sshd refusing the key...)."""
        t0 = time.monotonic()
        state = {"next": t0 + STATUS_POLL_S}

        def check():
            if time.monotonic() < state["next"]:
                return
            state["next"] = time.monotonic() + STATUS_POLL_S
            try:
                current = self.sc.clients("nova").servers.get(server.id)
            except Exception:  # a passing API error: keep waiting
                return
            status = getattr(current, "status", "")
            if status in ("ERROR", "SHUTOFF", "DELETED"):
                why = fleet_mod.fault(current)
                raise exceptions.HostUnreachable(
                    "went to %s%s while waiting for SSH: %s" % (
                        status, " (%s)" % why if why else "",
                        self.console_evidence(server, None)))

        try:
            target.runner.wait(timeout=self.timeout, check=check)
        except exceptions.HostUnreachable as e:
            if "while waiting for SSH" in str(e):
                raise
            raise exceptions.HostUnreachable(
                "did not answer SSH on %s within %s s: %s" % (
                    target.runner.address, self.timeout,
                    self.console_evidence(
                        server, getattr(target.runner, "last_error", None))
                )) from None
        progress.say("%s answers SSH (%d of %d, %.0f s)" % (
            server.name, answered.add(), answered.total,
            time.monotonic() - t0))

    def console_evidence(self, server, ssh_error) -> str:
        try:
            text = self.sc.clients("nova").servers.get_console_output(
                server, length=200)
        except Exception as e:  # the evidence must not hide the failure
            return "console log not available (%s)%s" % (
                e, "; last SSH error: %s" % ssh_error if ssh_error else "")
        return console.evidence(text, ssh_error)

    def _settle(self, target):
        """Until the guest's boot is over (cloud-init done, else systemd's
        start-up), up to the SSH timeout. Errors it reports are noted; a
        boot that does not finish marks the instance broken: measuring
        beside it would measure the boot."""
        t0 = time.monotonic()
        try:
            res = target.runner.run(self.BOOT_DONE_ARGV,
                                    timeout=self.timeout)
        except exceptions.CommandFailed as e:
            raise exceptions.HostUnreachable(
                "its boot (cloud-init or systemd) did not finish within %s s "
                "after SSH answered: %s" % (self.timeout, e)) from None
        # kept in the sweep's JSON: how each boot ended, how long it ran on
        # after SSH answered
        # 'status --wait' prints a dot per poll before its "status: done"
        found = re.search(r"(status|systemd): \S+", res.stdout)
        target.boot = {"status": found.group(0) if found else
                       (res.stdout.strip().splitlines() or [""])[0],
                       "exit_code": res.exit_code,
                       "waited_s": time.monotonic() - t0}
        if res.exit_code != 0:
            self.notes.append("%s: its boot reported errors (measured "
                              "anyway): %s" % (target.name, " ".join(
                                  res.stdout.split())[-300:]))

    def _prepare(self, target, install_command, image):
        run = target.runner.run
        self._settle(target)
        if install_command:
            res = run(["sh", "-c", install_command], timeout=1800)
            if res.exit_code != 0:
                raise exceptions.CommandFailed(
                    target.name, "install_command", res.exit_code,
                    res.stderr, res.stdout)
        for tool in self.sc.TOOLS:
            res = run(tools.installed_argv(tool), timeout=60)
            if res.exit_code != 0:
                raise exceptions.CommandFailed(
                    target.name, tool, 127,
                    "%s is not installed in the instance (image %s): add it "
                    "to the image or pass install_command, e.g. 'sudo "
                    "apt-get install -y %s'"
                    % (tool, image, tools.PACKAGES.get(tool, tool)))
        res = run(["id", "-u"], timeout=60)
        target.use_sudo = res.stdout.strip() != "0"
        target.tools = tools.versions(target.runner)

    # -- reboots --

    def reboot(self, targets: t.List[engine.Target]) -> None:
        """The paper's reboot between repetitions, the k instances at once:
        ``sync``, then nova's SOFT reboot -- an orderly shutdown, as the
        paper rebooted (a HARD one is a power cut; nova itself falls back
        to it when the guest ignores the shutdown) -- then SSH again, until
        the guest's boot id has changed. After a reboot the libvirt domain
        is new: runtime pinning is applied again and every instance's
        pinning read back. An instance that does not come back, or whose
        pinning is not in place, is marked broken with the evidence (its
        console); the others go on, and the workload fails in the end."""
        by_name = {i.name: i for i in self.fleet.instances}
        shutdowns = {}

        def one(target):
            server = by_name[target.name].server
            try:
                before = self._boot_id(target)
                target.runner.run(["sync"], timeout=300)
                server.reboot(reboot_type="SOFT")
                self._wait_rebooted(target, before)
                self._settle(target)
                shutdowns[target.name] = self._shutdown_kind(target, before)
            except Exception as e:
                target.broken = "reboot failed: %s; %s" % (
                    e, self.console_evidence(
                        server, getattr(target.runner, "last_error", None)))
                progress.say("%s FAILED to reboot: %s" % (target.name, e))

        progress.say("rebooting %d instance(s): %s" % (
            len(targets), ", ".join(tg.name for tg in targets)))
        engine.parallel(targets, one)
        self.reboots += 1
        self.history.append({"reboot": self.reboots,
                             "shutdown": dict(sorted(shutdowns.items()))})
        cut = sorted(n for n, kind in shutdowns.items()
                     if kind == "power cut")
        if cut:
            self.notes.append(
                "reboot %d: %s came back from a power cut (its journal of "
                "the boot before ends without a shutdown): nova's SOFT "
                "reboot did not complete and it fell back to a HARD one"
                % (self.reboots, ", ".join(cut)))
        if self.after_reboot is not None:
            self.after_reboot([tg for tg in targets if not tg.broken],
                              self.reboots)

    def _boot_id(self, target) -> str:
        return target.runner.run(self.BOOT_ID_ARGV,
                                 timeout=60).stdout.strip()

    def _wait_rebooted(self, target, before):
        """Until SSH answers with another boot id than ``before``."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                target.runner.reconnect()
                now = self._boot_id(target)
                if now and now != before:
                    return
            except exceptions.KVMPerfError:
                pass   # down, or coming up: try again
            if time.monotonic() >= deadline:
                raise exceptions.HostUnreachable(
                    "not back from its reboot within %s s" % self.timeout)
            time.sleep(REBOOT_POLL_S)

    def _shutdown_kind(self, target, boot_id) -> str:
        """How the guest went down at the end of boot ``boot_id``:
        "orderly", "power cut", or "unknown: why" (no persistent journal,
        not readable)."""
        argv = engine.as_root(target, self.LAST_BOOT_ARGV
                              + [boot_id.replace("-", "")])
        try:
            res = target.runner.run(argv, timeout=60)
        except exceptions.KVMPerfError as e:
            return "unknown: %s" % e
        if res.exit_code != 0:
            return "unknown: %s" % exceptions.last_line(
                res.stderr or res.stdout or "journalctl exited %s"
                % res.exit_code)
        return ("orderly" if "Journal stopped" in res.stdout
                else "power cut")

    # -- netperf's peer --

    def start_peer_netserver(self, instance: fleet_mod.Instance) -> str:
        """netserver in the peer instance, listening on the address its
        clients use (its fixed IP); its "address:port"."""
        target = instance.target
        assert target is not None, "connect() gives every instance one"
        if target.broken:
            raise exceptions.SweepFailed(
                "the netserver peer instance is not usable: %s"
                % target.broken)
        port = CONF.kvm_perf.netperf_port
        res = target.runner.run(["netserver", "-p", str(port),
                                 "-L", instance.fixed_ip], timeout=60)
        if res.exit_code != 0:
            raise exceptions.CommandFailed(target.name, "netserver",
                                           res.exit_code, res.stderr,
                                           res.stdout)
        return "%s:%d" % (instance.fixed_ip, port)
