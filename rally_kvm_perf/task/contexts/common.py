"""What the rally-kvm-perf contexts share.

Everything they give the scenarios lives under one Rally context key,
``context["kvm_perf"]``:

* ``flavor``: the benchmark flavor (kvm_perf_flavor): id, name, vcpus, ram,
  disk, extra_specs, pinning;
* ``hypervisors``: per compute host name (kvm_perf_hypervisors): address,
  access, facts (CPU, RAM, kernel, EPT/NPT), libvirt URI, errors; and
  ``runtime_pinning`` / ``verify_pinning`` settings for the scenarios' hook;
* ``baselines``: per compute host name (kvm_perf_baseline): a host
  baseline document.
"""

from rally_openstack.common import osclients

KEY = "kvm_perf"
# where nova tells admins which compute host a server runs on
HYPERVISOR_ATTR = "OS-EXT-SRV-ATTR:hypervisor_hostname"


def shared(context):
    """The ``kvm_perf`` dict of a Rally context, created on first use."""
    return context.setdefault(KEY, {})


def admin_clients(context):
    """Admin OpenStack clients (a seam the tests replace with fakes)."""
    return osclients.Clients(context["admin"]["credential"])
