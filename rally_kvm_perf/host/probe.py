"""The compute hosts' side of the contention telemetry: their counters read
through the kvm_perf_hypervisors context's runners (this machine or SSH),
just before and just after every run (telemetry.host_argv)."""

from rally_kvm_perf import telemetry


class HostProbe:
    """``snapshot(targets)``: {compute host: counters text} of the hosts
    holding ``targets``, with each target's qemu process found through its
    libvirt domain (``domains``: {instance name: domain name})."""

    def __init__(self, runner_for, domains, timeout=60):
        self._runner_for = runner_for   # host name -> runner, or None
        self.domains = dict(domains)
        self.timeout = timeout
        self._runners = {}

    def _runner(self, host):
        if host not in self._runners:
            self._runners[host] = self._runner_for(host)
        return self._runners[host]

    def snapshot(self, targets):
        by_host = {}
        for target in targets:
            if target.hypervisor is None:
                continue
            by_host.setdefault(target.hypervisor, []).append(
                self.domains.get(target.name))
        found = {}
        for host, domains in sorted(by_host.items()):
            runner = self._runner(host)
            if runner is None:
                continue
            res = runner.run(telemetry.host_argv(
                [d for d in domains if d]), timeout=self.timeout)
            if res.exit_code == 0:
                found[host] = res.stdout
        return found

    def close(self):
        for runner in self._runners.values():
            if runner is not None:
                runner.close()
        self._runners = {}
