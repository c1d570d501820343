"""Host facts: CPU, memory, kernel, and whether EPT (Intel) / NPT (AMD) is on.

``FACTS_COMMAND`` prints everything in one round trip (a fixed script, no
user input in it); ``parse_facts`` and ``ept_state`` are pure functions.
"""

import re

from rally_kvm_perf import exceptions

_SCRIPT = """\
echo @@hostname; cat /proc/sys/kernel/hostname
echo @@kernel; uname -r
echo @@cpuinfo; cat /proc/cpuinfo
echo @@meminfo; cat /proc/meminfo
echo @@modules; for m in /sys/module/kvm*; do [ -d "$m" ] && basename "$m"; done
echo @@kvm_intel_ept; cat /sys/module/kvm_intel/parameters/ept 2>/dev/null
echo @@kvm_amd_npt; cat /sys/module/kvm_amd/parameters/npt 2>/dev/null
echo @@dev_kvm; [ -e /dev/kvm ] && echo present
echo @@euid; id -u
echo @@end
"""
FACTS_COMMAND = ["sh", "-c", _SCRIPT]

_SECTION_RE = re.compile(r"^@@(\w+)$")


def _sections(text):
    sections, current = {}, None
    for line in text.splitlines():
        match = _SECTION_RE.match(line.strip())
        if match:
            current = match.group(1)
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    if "end" not in sections:
        raise exceptions.ParseError(
            "host facts output is truncated (no @@end marker): %r"
            % text[-200:])
    return {k: "\n".join(v).strip() for k, v in sections.items()}


def _cpuinfo_field(cpuinfo, name):
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return None


def parse_facts(text):
    """Parse the output of FACTS_COMMAND into a dict of host facts."""
    s = _sections(text)
    cpuinfo = s.get("cpuinfo", "")
    meminfo = re.search(r"^MemTotal:\s+(\d+)\s*kB", s.get("meminfo", ""), re.M)
    flags = (_cpuinfo_field(cpuinfo, "flags") or "").split()
    vmx_flags = (_cpuinfo_field(cpuinfo, "vmx flags") or "").split()
    modules = s.get("modules", "").split()
    facts = {
        "hostname": s.get("hostname") or None,
        "kernel": s.get("kernel") or None,
        "cpu_model": _cpuinfo_field(cpuinfo, "model name"),
        "cpu_vendor": _cpuinfo_field(cpuinfo, "vendor_id"),
        "cpus": sum(1 for ln in cpuinfo.splitlines()
                    if ln.split(":")[0].strip() == "processor") or None,
        "ram_mb": int(meminfo.group(1)) // 1024 if meminfo else None,
        "running_as_root": s.get("euid") == "0",
        "dev_kvm": s.get("dev_kvm") == "present",
        "kvm_modules": modules,
        "cpu_flags_hypervisor": "hypervisor" in flags,
    }
    facts["ept"] = ept_state(facts["cpu_vendor"], flags, vmx_flags, modules,
                             s.get("kvm_intel_ept") or None,
                             s.get("kvm_amd_npt") or None)
    return facts


def _on(value):
    return value.strip().upper() in ("Y", "1", "YES", "ON")


def ept_state(vendor, flags, vmx_flags, modules, intel_ept, amd_npt):
    """Is two-dimensional paging (EPT on Intel, NPT on AMD) in use by KVM?

    :param vendor: cpuinfo vendor_id (GenuineIntel, AuthenticAMD, ...)
    :param flags: cpuinfo flags
    :param vmx_flags: cpuinfo "vmx flags" (kernels >= 5.8 list ept there)
    :param modules: loaded kvm* modules (from /sys/module)
    :param intel_ept: content of /sys/module/kvm_intel/parameters/ept
    :param amd_npt: content of /sys/module/kvm_amd/parameters/npt
    :returns: dict with ``feature`` (EPT/NPT/None), ``cpu_supports``,
        ``module``, ``enabled`` (True/False/None when unknown) and ``state``,
        a sentence for the report; ``how_to_enable`` when it is off.
    """
    flags, vmx_flags, modules = set(flags), set(vmx_flags), set(modules)
    if "vmx" in flags or vendor == "GenuineIntel":
        feature, module, param, value = "EPT", "kvm_intel", "ept", intel_ept
        supports = ("ept" in flags or "ept" in vmx_flags) if "vmx" in flags \
            else False
        hw = "vmx" in flags
    elif "svm" in flags or vendor in ("AuthenticAMD", "HygonGenuine"):
        feature, module, param, value = "NPT", "kvm_amd", "npt", amd_npt
        supports = "npt" in flags
        hw = "svm" in flags
    else:
        return {"feature": None, "cpu_supports": None, "module": None,
                "enabled": None, "hardware_virtualization": False,
                "state": "unknown CPU vendor %r: EPT/NPT not checked" % vendor}
    result = {"feature": feature, "cpu_supports": supports, "module": module,
              "hardware_virtualization": hw, "enabled": None}
    other = sorted(m for m in modules if m not in ("kvm", module))
    if module not in modules:
        result["state"] = "KVM module absent: %s is not loaded%s%s" % (
            module,
            "" if hw else " and the CPU shows no %s flag (nested or "
            "virtualisation disabled in firmware?)"
            % ("vmx" if feature == "EPT" else "svm"),
            "; other KVM modules: %s" % ", ".join(other) if other else "")
        return result
    if value is None:
        result["state"] = "%s loaded but its %s parameter is unreadable" % (
            module, param)
        return result
    result["enabled"] = _on(value)
    if result["enabled"]:
        result["state"] = "%s on (%s.%s=%s)" % (feature, module, param, value)
    else:
        result["state"] = "%s off (%s.%s=%s)" % (feature, module, param, value)
        result["how_to_enable"] = (
            "stop all guests, then 'modprobe -r %s && modprobe %s %s=1'; make "
            "it permanent with 'options %s %s=1' in /etc/modprobe.d/%s.conf"
            % (module, module, param, module, param, module))
        if supports is False:
            result["how_to_enable"] = (
                "the CPU does not offer %s; no module parameter can enable it"
                % feature)
    return result
