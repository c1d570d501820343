"""A small libvirt client: read domain XML, pin vCPUs, host facts."""

import libvirt

from rally_kvm_perf import exceptions


def _quiet(_ctx, _err):
    """libvirt prints every error to stderr by default; we raise them."""


libvirt.registerErrorHandler(_quiet, None)


class Libvirt:
    """One libvirt connection (``qemu:///system``, ``qemu+ssh://...``,
    ``test:///default`` ...). Read-only unless ``readonly=False``."""

    def __init__(self, uri, readonly=True):
        self.uri = uri
        try:
            self.conn = (libvirt.openReadOnly(uri) if readonly
                         else libvirt.open(uri))
        except libvirt.libvirtError as e:
            raise exceptions.HostUnreachable(
                "cannot connect to libvirt at %s: %s"
                % (uri, e.get_error_message())) from None

    def _domain(self, name):
        try:
            return self.conn.lookupByName(name)
        except libvirt.libvirtError as e:
            raise exceptions.KVMPerfError(
                "libvirt domain %s not found at %s: %s"
                % (name, self.uri, e.get_error_message())) from None

    def domain_xml(self, name):
        try:
            return self._domain(name).XMLDesc(0)
        except libvirt.libvirtError as e:
            raise exceptions.KVMPerfError(
                "cannot read libvirt domain %s at %s: %s"
                % (name, self.uri, e.get_error_message())) from None

    def host_cpus(self):
        """Width of libvirt's host CPU map: CPUs 0..n-1 can be pinned to."""
        try:
            return self.conn.getCPUMap()[0]
        except libvirt.libvirtError:
            return self.conn.getInfo()[2]

    def facts(self):
        info = self.conn.getInfo()
        try:
            version = self.conn.getVersion()
        except libvirt.libvirtError:
            version = None
        return {"hypervisor": self.conn.getType(),
                "hypervisor_version": _version(version),
                "libvirt_version": _version(self.conn.getLibVersion()),
                "cpu_model": info[0], "ram_mb": info[1], "cpus": info[2]}

    def pin(self, name, vcpu_cpus, emulator_cpus=None):
        """Pin vCPU i to host CPU vcpu_cpus[i] (virDomainPinVcpu), and the
        emulator threads to ``emulator_cpus`` when given
        (virDomainPinEmulator, ``virsh emulatorpin``).

        :returns: the previous pinning {vcpu: [cpus]}, to restore it
        """
        domain = self._domain(name)
        total = self.host_cpus()
        previous = {}
        for cpu in list(vcpu_cpus) + list(emulator_cpus or []):
            if not 0 <= cpu < total:
                raise exceptions.InvalidArgument(
                    "host CPU %d does not exist at %s (it has %d)"
                    % (cpu, self.uri, total))
        try:
            for vcpu, info in enumerate(domain.vcpuPinInfo(0)):
                previous[vcpu] = [c for c, on in enumerate(info) if on]
            for vcpu, cpu in enumerate(vcpu_cpus):
                domain.pinVcpu(vcpu, tuple(c == cpu for c in range(total)))
            if emulator_cpus:
                domain.pinEmulator(
                    tuple(c in emulator_cpus for c in range(total)),
                    libvirt.VIR_DOMAIN_AFFECT_LIVE)
        except libvirt.libvirtError as e:
            raise exceptions.KVMPerfError(
                "cannot pin the vCPUs of %s at %s: %s"
                % (name, self.uri, e.get_error_message())) from None
        return previous

    def restore(self, name, previous):
        """Put back a pinning returned by pin()."""
        domain = self._domain(name)
        total = self.host_cpus()
        try:
            for vcpu, cpus in previous.items():
                domain.pinVcpu(int(vcpu), tuple(c in cpus
                                                for c in range(total)))
        except libvirt.libvirtError as e:
            raise exceptions.KVMPerfError(
                "cannot restore the vCPU pinning of %s at %s: %s"
                % (name, self.uri, e.get_error_message())) from None

    def close(self):
        try:
            self.conn.close()
        except libvirt.libvirtError:
            pass


def _version(number):
    if not number:
        return None
    return "%d.%d.%d" % (number // 1000000, number // 1000 % 1000,
                         number % 1000)
