"""Rally validators of rally-kvm-perf: bad tasks fail at ``rally task
validate``, before anything runs."""

from rally.common import validation

from rally_kvm_perf import exceptions
from rally_kvm_perf.host import runner as host_runner
from rally_kvm_perf.sweep import plan


@validation.configure(name="kvm_perf_remote_host")
class RemoteHostValidator(validation.Validator):
    """A remote ``host`` must be ``[USER@]HOST[:PORT]`` and needs a
    ``netserver`` target: a private loopback netserver only works for the
    machine Rally runs on, and would not be the target the instances use."""

    def __init__(self, host_param="host", netserver_param="netserver",
                 skip_netperf_param="skip_netperf"):
        self.host_param = host_param
        self.netserver_param = netserver_param
        self.skip_netperf_param = skip_netperf_param

    def validate(self, context, config, plugin_cls, plugin_cfg):
        args = (config or {}).get("args", {})
        host = args.get(self.host_param)
        if not host:
            return
        try:
            host_runner.parse_ssh_target(str(host))
        except exceptions.InvalidArgument as e:
            self.fail(str(e))
        if not args.get(self.netserver_param) \
                and not args.get(self.skip_netperf_param):
            self.fail("'%s' is required with '%s': give the netserver "
                      "HOST[:PORT] the instances measure against"
                      % (self.netserver_param, self.host_param))


@validation.configure(name="kvm_perf_active_counts")
class ActiveCountsValidator(validation.Validator):
    """``active_counts`` must be whole numbers from 1 to ``instances``."""

    def __init__(self, param_name="active_counts",
                 instances_param="instances", default_instances=10):
        self.param_name = param_name
        self.instances_param = instances_param
        self.default_instances = default_instances

    def validate(self, context, config, plugin_cls, plugin_cfg):
        args = (config or {}).get("args", {})
        counts = args.get(self.param_name)
        if counts is None:
            return
        instances = args.get(self.instances_param, self.default_instances)
        if not plan.valid_levels(counts, instances):
            self.fail("'%s' must be a non-empty list of whole numbers from 1 "
                      "to %s ('%s'), got %r" % (self.param_name, instances,
                                                self.instances_param, counts))
