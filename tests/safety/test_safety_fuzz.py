"""Fuzzing the expression parser with hypothesis.

* Random text and random syntax trees full of dangerous constructs never run
  anything: every payload would create the file ``MARKER`` in the working
  directory, and an audit hook records any ``eval``/``exec`` of text, any
  ``os.system``, process start or ``open`` of the marker while parsing.
* They never raise anything but :class:`ExpressionError`.
* Valid random trees round-trip: the parsed text equals the SymPy expression
  this test builds directly from the tree (its own table of functions, Python's
  evaluation order), or, when that construction meets a value that is not
  finite and real (``1/0``, ``log(-1)``) or a number beyond the parser's
  documented limits, the parser refuses it.
"""

import ast
import os
import sys
import tempfile
from contextlib import contextmanager

import sympy
from hypothesis import HealthCheck, given, settings, strategies as st

from modeq.parsing import MAX_BITS, MAX_EXPONENT, ExpressionError, parse_expression

MARKER = "MARKER"
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = ["x", "y", "E", "I", "S", "N", "O", "Q", "beta", "gamma", "lambda"]
SYMBOLS = {name: sympy.Symbol(name, real=True) for name in NAMES}
FUNCTIONS = {  # the test's own construction of each allowed function
    "sqrt": sympy.sqrt, "exp": sympy.exp, "log": sympy.log, "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
    "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh, "asin": sympy.asin, "acos": sympy.acos,
    "atan": sympy.atan, "asinh": sympy.asinh, "acosh": sympy.acosh, "atanh": sympy.atanh, "erf": sympy.erf,
    "sigmoid": lambda t: 1 / (1 + sympy.exp(-t)), "softplus": lambda t: sympy.log(1 + sympy.exp(t)),
    "abs": sympy.Abs, "relu": lambda t: sympy.Max(0, t), "sign": sympy.sign, "floor": sympy.floor,
}
PAYLOADS = [
    f"__import__('os').system('touch {MARKER}')",
    f"open('{MARKER}', 'w')",
    f"exec(\"open('{MARKER}', 'w')\")",
    f"eval(\"__import__('os').system('touch {MARKER}')\")",
    f"(lambda: open('{MARKER}', 'w'))()",
    f"[open('{MARKER}', 'w') for _ in (1,)]",
    f"getattr(__builtins__, 'open')('{MARKER}', 'w')",
    f"().__class__.__base__.__subclasses__()[0]('{MARKER}')",
    f"compile(\"open('{MARKER}','w')\", 'f', 'exec')",
    f"__import__('subprocess').run(['touch', '{MARKER}'])",
    f"x.__class__.__init__.__globals__['os'].system('touch {MARKER}')",
    f"(y := open('{MARKER}', 'w'))",
    f"f'{{open(\"{MARKER}\", \"w\")}}'",
    f"exp(x, key=open('{MARKER}', 'w'))",
    f"sqrt(*[open('{MARKER}', 'w')])",
    f"x if open('{MARKER}', 'w') else y",
    f"x < open('{MARKER}', 'w')",
    f"x and open('{MARKER}', 'w')",
    f"Symbol('{MARKER}')",
    f"S('__import__(\"os\").system(\"touch {MARKER}\")')",
    f"sympify('__import__(\"os\").system(\"touch {MARKER}\")')",
]
_DANGEROUS_EVENTS = {"os.system", "subprocess.Popen", "os.posix_spawn", "os.exec", "os.spawn", "os.fork"}
_events: list[str] = []
_watching = [False]


def _audit(event, args):
    if not _watching[0]:
        return
    if event in _DANGEROUS_EVENTS:
        _events.append(event)
    elif event == "exec" and args and getattr(args[0], "co_filename", "") in ("<string>", "<unknown>"):
        _events.append("exec of text")
    elif event == "open" and args and MARKER in str(args[0]):
        _events.append("open of the marker")


sys.addaudithook(_audit)


@contextmanager
def watched():
    """Run in an empty directory with the audit hook on; nothing may have run."""
    before = os.getcwd()
    with tempfile.TemporaryDirectory() as directory:
        os.chdir(directory)
        _events.clear()
        _watching[0] = True
        try:
            yield
        finally:
            _watching[0] = False
            os.chdir(before)
        assert not os.path.exists(os.path.join(directory, MARKER)), "the text was executed"
        assert not _events, f"the parser ran something: {_events}"


def parse_or_refuse(text):
    """The parsed expression, or None when refused with ExpressionError (and nothing else)."""
    try:
        result = parse_expression(text, SYMBOLS)
    except ExpressionError as error:
        assert "\n" not in str(error)
        return None
    assert isinstance(result, sympy.Expr)
    return result


# --- random syntax trees -------------------------------------------------------

def _number(value):
    return ast.Constant(value)


leaves = st.one_of(
    st.sampled_from(NAMES + ["pi"]).map(lambda n: ast.Name(n, ast.Load())),
    st.integers(0, 12).map(_number),
    st.sampled_from([0.5, 0.25, 1.5, 2.0, 1e-3, 3.75, 0.1, 2.5e2]).map(_number),
)
_SAFE_OPS = [ast.Add(), ast.Sub(), ast.Mult(), ast.Div()]


def _valid_nodes(children):
    return st.one_of(
        st.builds(lambda a, op, b: ast.BinOp(a, op, b), children, st.sampled_from(_SAFE_OPS), children),
        st.builds(lambda a, k: ast.BinOp(a, ast.Pow(), _number(k)), children, st.sampled_from([-2, -1, 2, 3, 0.5])),
        st.builds(lambda a, b: ast.BinOp(a, ast.Pow(), b), children, children),
        st.builds(lambda op, a: ast.UnaryOp(op, a), st.sampled_from([ast.USub(), ast.UAdd()]), children),
        st.builds(lambda f, a: ast.Call(ast.Name(f, ast.Load()), [a], []), st.sampled_from(sorted(FUNCTIONS)), children),
        st.builds(lambda a, b: ast.Call(ast.Name("max", ast.Load()), [a, b], []), children, children),
    )


valid_trees = st.recursive(leaves, _valid_nodes, max_leaves=10)


def _dangerous_nodes(children):
    payload = st.sampled_from(PAYLOADS).map(lambda s: ast.parse(s, mode="eval").body)
    name = lambda n: ast.Name(n, ast.Load())  # noqa: E731
    return st.one_of(
        payload,
        st.builds(lambda a: ast.Attribute(a, "__class__", ast.Load()), children),
        st.builds(lambda a: ast.Subscript(a, _number(0), ast.Load()), children),
        st.builds(lambda f, a: ast.Call(name(f), [a], []),
                  st.sampled_from(["eval", "exec", "open", "__import__", "getattr", "f", "O", "Symbol", "S", "sympify",
                                   "x", "print", "input", "breakpoint"]), children),
        st.builds(lambda a: ast.Call(name("exp"), [], [ast.keyword("x", a)]), children),
        st.builds(lambda a: ast.Call(name("exp"), [ast.Starred(a, ast.Load())], []), children),
        st.builds(lambda a: ast.Lambda(ast.arguments([], [], None, [], [], None, []), a), children),
        st.builds(lambda a: ast.ListComp(a, [ast.comprehension(ast.Name("t", ast.Store()), name("x"), [], 0)]), children),
        st.builds(lambda a: ast.NamedExpr(ast.Name("z", ast.Store()), a), children),
        st.builds(lambda a: ast.JoinedStr([ast.FormattedValue(a, -1, None)]), children),
        st.builds(lambda a, b: ast.Compare(a, [ast.Lt()], [b]), children, children),
        st.builds(lambda a, b: ast.BoolOp(ast.Or(), [a, b]), children, children),
        st.builds(lambda a, b: ast.IfExp(a, b, a), children, children),
        st.builds(lambda a, op, b: ast.BinOp(a, op, b), children,
                  st.sampled_from([ast.Mod(), ast.FloorDiv(), ast.BitXor(), ast.MatMult(), ast.LShift(), ast.BitOr()]),
                  children),
        st.builds(lambda a: ast.UnaryOp(ast.Invert(), a), children),
        st.builds(lambda a: ast.UnaryOp(ast.Not(), a), children),
        st.builds(lambda a: ast.Tuple([a, a], ast.Load()), children),
        st.sampled_from(["os", "__import__", "__builtins__", MARKER, "nan", "e", "j"]).map(name),
        st.sampled_from(["touch MARKER", b"x", True, None, 1j, ...]).map(_number),
    )


@st.composite
def dangerous_trees(draw):
    """A dangerous construct (over valid sub-trees) inside a valid tree."""
    bad = draw(_dangerous_nodes(st.recursive(leaves, _valid_nodes, max_leaves=3)))
    host = draw(valid_trees)
    tree = draw(st.sampled_from([ast.BinOp(bad, ast.Add(), host), ast.BinOp(host, ast.Mult(), bad),
                                 ast.Call(ast.Name("exp", ast.Load()), [ast.BinOp(host, ast.Pow(), bad)], [])]))
    return ast.fix_missing_locations(tree)


# --- the trusted construction ---------------------------------------------------

class Refused(Exception):
    """The construction met a value the parser must refuse."""


def _complex_number(value):
    """A number with a non-zero imaginary part, told apart by Python's complex
    arithmetic where SymPy's assumptions cannot decide (``(-1)**(pi/2)``)."""
    if not value.is_number or value.is_real:
        return False
    number = complex(value)
    return value.is_real is False or abs(number.imag) > 1e-12 * max(1.0, abs(number))


def _bad(value):
    return value.has(sympy.zoo, sympy.nan, sympy.oo, sympy.I) or _complex_number(value) or any(
        isinstance(p, sympy.Rational) and int(p.p).bit_length() + int(p.q).bit_length() > MAX_BITS
        for p in sympy.preorder_traversal(value))


def expected(node):
    """The SymPy expression of a valid tree, in Python's evaluation order."""
    if isinstance(node, ast.Name):
        return sympy.pi if node.id == "pi" else SYMBOLS[node.id]
    if isinstance(node, ast.Constant):
        return sympy.Integer(node.value) if isinstance(node.value, int) else sympy.Rational(repr(node.value))
    if isinstance(node, ast.UnaryOp):
        value = expected(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Call):
        args = [expected(a) for a in node.args]
        value = sympy.Max(*args) if node.func.id == "max" else FUNCTIONS[node.func.id](*args)
    else:
        a, b = expected(node.left), expected(node.right)
        if isinstance(node.op, ast.Div) and b == 0:
            raise Refused
        if isinstance(node.op, ast.Pow) and b.is_number and bool(abs(b) > MAX_EXPONENT):
            raise Refused  # before computing: 9**9**9 must not be built here either
        value = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b, ast.Div: lambda: a / b,
                 ast.Pow: lambda: a**b}[type(node.op)]()
    if _bad(value):
        raise Refused
    return value


# --- the properties ---------------------------------------------------------------

_TOKENS = ["x", "y", "lambda", "E", "I", "(", ")", "+", "-", "*", "**", "/", "%", "^", ".", ",", "[", "]", ":", "=",
           "'", '"', " ", "1", "0", "2.5", "1e9", "j", "__import__", "'os'", "system", "open", "exec", "eval",
           f"'{MARKER}'", "exp", "sqrt", "log", "pi", "if", "else", "for", "in", "not", "and", "{", "}", "f'", "\\",
           "\n", "#", "@", "<", "!", ";", "9" * 50, "**9**9", "__class__", "lambda:", "yield", "await", "\x00"]


@SETTINGS
@given(st.one_of(st.text(max_size=80), st.lists(st.sampled_from(_TOKENS), max_size=30).map("".join)))
def test_random_text_never_runs_and_only_raises_expression_error(text):
    with watched():
        parse_or_refuse(text)


@SETTINGS
@given(dangerous_trees())
def test_dangerous_constructs_are_refused_without_running(tree):
    text = ast.unparse(tree)
    with watched():
        assert parse_or_refuse(text) is None, text


@SETTINGS
@given(valid_trees)
def test_valid_trees_round_trip_to_the_trusted_construction(tree):
    text = ast.unparse(tree)
    try:
        trusted = expected(tree)
    except Refused:
        trusted = None
    with watched():
        parsed = parse_or_refuse(text)
    if trusted is None:
        assert parsed is None, f"{text} should be refused, got {parsed}"
    else:
        assert parsed == trusted, f"{text}: parsed {parsed}, trusted {trusted}"


def test_the_watch_would_see_an_evaluation():
    """The checks above can fail: sympify of a payload is caught by both."""
    try:
        with watched():
            sympy.sympify(f"__import__('os').system('touch {MARKER}')")
    except AssertionError as error:
        assert "executed" in str(error) or "ran something" in str(error)
    else:
        raise AssertionError("the watch did not notice an executed payload")


def test_a_subtraction_is_built_as_sympy_subtracts():
    """Found by the round-trip property above: the parser negated a term by multiplying with -1, which SymPy
    evaluates differently from its own subtraction ((1/2)**x * -1 is -2**(-x), a - b is Add(a, -b) with
    -(1/2)**x), so 0.5**E - 0.5**E did not cancel and a division by it was accepted."""
    x, e = SYMBOLS["x"], SYMBOLS["E"]
    assert parse_or_refuse("0 - 0.5 ** x") == 0 - sympy.Rational(1, 2) ** x
    assert parse_or_refuse("0.5 ** E - 0.5 ** E") == 0
    assert parse_or_refuse("x / (0.5 ** E - 0.5 ** E)") is None
    assert parse_or_refuse("x - 2*x + y - 3") == -x + SYMBOLS["y"] - 3


def test_a_large_number_inside_a_power_is_refused():
    """Found by the round-trip property above: SymPy evaluates (1/62500)**(1/4000) to (4*10**2000)**(1/2000)/10,
    a number of over 6000 bits two levels down, which the parser's size check (top-level parts only) let through."""
    assert parse_or_refuse("(250.0 ** -2) ** (0.25 * 0.001)") is None
    assert parse_or_refuse("(250.0 ** -2) ** 0.5") == sympy.Rational(1, 250)
