"""The package stays readable in parts: no module over 500 lines, no
function over 60 lines of code (its docstring and signature aside), no
state read back through getattr(self, ...) with a default."""

import ast
import pathlib
import re

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "rally_kvm_perf"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


def _code_lines(node, lines):
    """A function's lines of code: after its docstring, without blank
    lines and comments."""
    body = node.body
    if isinstance(body[0], ast.Expr) and isinstance(
            getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if not body:
        return 0
    return sum(1 for line in lines[body[0].lineno - 1:node.end_lineno]
               if line.strip() and not line.strip().startswith("#"))


def test_no_module_is_over_500_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in _modules()
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, long


def test_no_function_is_over_60_lines_of_code():
    long = {}
    for path in _modules():
        text = path.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = _code_lines(node, lines)
                if n > MAX_FUNCTION_LINES:
                    long["%s:%s" % (path.relative_to(PACKAGE), node.name)] = n
    assert not long, long


def test_the_check_sees_a_long_function():
    """The counter counts code, not the docstring: a planted 61-line
    function is found, a 60-line one with a long docstring is not."""
    body = "".join("    x%d = %d\n" % (i, i) for i in range(61))
    src = 'def f():\n    """%s"""\n%s' % ("doc\n" * 30, body)
    [node] = ast.parse(src).body
    assert _code_lines(node, src.splitlines()) == 61
    src = 'def f():\n    """%s"""\n%s' % ("doc\n" * 30, body[:-len(
        "    x60 = 60\n")])
    [node] = ast.parse(src).body
    assert _code_lines(node, src.splitlines()) == 60


def test_no_state_is_read_back_through_getattr_self_with_a_default():
    found = ["%s:%d" % (p.relative_to(PACKAGE), n)
             for p in _modules()
             for n, line in enumerate(p.read_text().splitlines(), 1)
             if re.search(r"getattr\(self, ", line)]
    assert not found, found
