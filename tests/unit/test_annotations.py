"""The pure parts of the package -- statistics, parsers, the sweep engine,
the results record -- annotate every public function and method, so that
mypy (tox -e mypy, CI; setup.cfg's [mypy]) checks their bodies and their
callers. A function added without them fails here, naming it."""

import importlib
import inspect
import pkgutil

PURE = ("rally_kvm_perf.analysis", "rally_kvm_perf.benchmarks",
        "rally_kvm_perf.sweep", "rally_kvm_perf.results",
        "rally_kvm_perf.metrics", "rally_kvm_perf.telemetry")


def _modules():
    for name in PURE:
        module = importlib.import_module(name)
        yield module
        for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
            yield importlib.import_module("%s.%s" % (name, info.name))


def _public_functions(module):
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) \
                != module.__name__:
            continue
        if inspect.isfunction(obj):
            yield "%s.%s" % (module.__name__, name), obj
        elif inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if isinstance(member, property):
                    member = member.fget
                if inspect.isfunction(member) and (
                        not attr.startswith("_") or attr == "__init__"):
                    yield "%s.%s.%s" % (module.__name__, name, attr), member


def _unannotated(func):
    sig = inspect.signature(func)
    missing = [p.name for p in sig.parameters.values()
               if p.name not in ("self", "cls")
               and p.annotation is inspect.Parameter.empty]
    if sig.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def test_the_pure_modules_annotate_every_public_function():
    found = {name: _unannotated(func) for module in _modules()
             for name, func in _public_functions(module)}
    assert len(found) > 100, sorted(found)   # the walk found them
    missing = {name: m for name, m in found.items() if m}
    assert not missing, missing


def test_the_check_sees_a_function_without_annotations():
    def plain(a, b: int):
        return a + b
    assert _unannotated(plain) == ["a", "return"]
