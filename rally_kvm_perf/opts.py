"""All oslo.config options of rally-kvm-perf, registered in the [kvm_perf] group.

Rally loads them through the ``rally_plugins`` entry point (``list_opts``), so
they can be set in rally.conf and are listed by ``oslo-config-generator``.
"""

from oslo_config import cfg

GROUP = "kvm_perf"

OPTS = [
    cfg.IntOpt("repetitions", default=10, min=1,
               help="How many times each benchmark is repeated (the paper: 10)."),
    cfg.StrOpt("bonnie_directory", default="/var/lib/nova/instances",
               help="Directory bonnie++ writes to on a compute host; by "
                    "default the one that backs instance disks."),
    cfg.IntOpt("netperf_duration", default=60, min=1,
               help="Length of one netperf test in seconds (the paper: 60-120)."),
    cfg.IntOpt("netperf_port", default=12865, min=1, max=65535,
               help="Control port of the netserver targets."),
    cfg.StrOpt("ssh_user", default="root",
               help="User for SSH connections to compute hosts."),
    cfg.StrOpt("ssh_key_file", default=None,
               help="Private key for SSH connections to compute hosts."),
    cfg.IntOpt("ssh_port", default=22, min=1, max=65535,
               help="SSH port of compute hosts."),
    cfg.StrOpt("ssh_known_hosts", default=None,
               help="known_hosts file for compute hosts: when set, a host "
                    "whose SSH key is not in it, or differs, is refused "
                    "(SSH and libvirt's qemu+ssh alike). Unset: any host "
                    "key is accepted, as Rally's SSH does."),
    cfg.IntOpt("command_timeout", default=4 * 3600, min=1,
               help="Seconds one benchmark command may run before it is "
                    "killed (a 2xRAM bonnie++ run can take hours)."),
    cfg.StrOpt("libvirt_uri_template", default="qemu+ssh://{user}@{host}/system",
               help="libvirt URI of a compute host; {user} and {host} are "
                    "replaced. Use qemu:///system for a local all-in-one host."),
    cfg.StrOpt("baseline_directory", default="~/.rally/kvm_perf/baselines",
               help="Where host baseline JSON files are written and looked up."),
]


def list_opts():
    """Options for Rally's plugin loader and oslo-config-generator."""
    return [(GROUP, OPTS)]


def register_opts(conf=None):
    """Register the options (idempotent) and return the config object."""
    conf = conf or cfg.CONF
    conf.register_opts(OPTS, group=GROUP)
    return conf


# the process-wide configuration with our options registered: import this
# rather than registering again in every module
CONF = register_opts(cfg.CONF)
