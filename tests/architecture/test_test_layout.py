"""The test tree's own layout: in pytest's default ``prepend`` import mode a test
module outside a package is imported by its basename, so two such modules with
one basename stop the whole run at collection ("import file mismatch")."""

from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_test_modules_outside_packages_have_distinct_basenames():
    by_name = defaultdict(list)
    for path in TESTS.rglob("test_*.py"):
        if not (path.parent / "__init__.py").exists():
            by_name[path.name].append(str(path.relative_to(TESTS)))
    clashes = {name: paths for name, paths in by_name.items() if len(paths) > 1}
    assert not clashes, f"rename one of each group (e.g. prefix its directory): {clashes}"
