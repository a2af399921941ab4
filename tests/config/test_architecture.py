"""The layout's rules, checked on the source: apps import one way, no import cycles, small functions.

DESIGN.md ("Layout") and README.md ("Architecture"): `intimacy` may import `accounts`, never the
reverse, not even inside a function; no two modules of accounts, intimacy and config import each other
(directly or round a longer loop); and no function is past the size a reader can hold at once.
"""

import ast
from pathlib import Path

import pytest
from radon.complexity import cc_visit
from radon.visitors import Class

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("accounts", "intimacy", "config")
MAX_COMPLEXITY = 15  # radon's cyclomatic complexity
MAX_LINES = 60  # decorators and docstring included


def sources(*, migrations: bool = False) -> list[Path]:
    files = [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]
    return [p for p in files if migrations or "migrations" not in p.parts]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function ("from a import b" counts a.b too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def project_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in sources()}
    return {name: {m for m in imported_modules(path) if m in modules and m != name} for name, path in modules.items()}


def test_accounts_never_imports_intimacy():
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sources(migrations=True)
        if path.relative_to(ROOT).parts[0] == "accounts"
        for module in imported_modules(path)
        if module == "intimacy" or module.startswith("intimacy.")
    ]
    assert offenders == []


def test_no_import_cycles_between_modules():
    graph = project_graph()
    cycles, state = [], {}  # state: 1 while on the current path, 2 once finished

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                cycles.append(" → ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_the_cycle_finder_finds_a_cycle(monkeypatch):
    # The check above must be able to fail: a made-up two-module loop is reported.
    import tests.config.test_architecture as me

    monkeypatch.setattr(me, "project_graph", lambda: {"a": {"b"}, "b": {"a"}})
    with pytest.raises(AssertionError, match="a → b → a"):
        test_no_import_cycles_between_modules()


def functions(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def test_no_function_is_longer_than_a_screen():
    too_long = []
    for path in sources():
        for node in functions(path):
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            if node.end_lineno - start + 1 > MAX_LINES:
                too_long.append(f"{path.relative_to(ROOT)}:{start} {node.name} ({node.end_lineno - start + 1} lines)")
    assert too_long == []


def radon_blocks(blocks):
    """Every function radon measured, methods of classes and functions nested in functions included."""
    for block in blocks:
        if isinstance(block, Class):
            yield from radon_blocks([*block.methods, *block.inner_classes])
        else:
            yield block
            yield from radon_blocks(block.closures)


def test_no_function_is_too_branchy():
    too_complex = [
        f"{path.relative_to(ROOT)}:{block.lineno} {block.name} (complexity {block.complexity})"
        for path in sources()
        for block in radon_blocks(cc_visit(path.read_text()))
        if block.complexity > MAX_COMPLEXITY
    ]
    assert too_complex == []


def attribute_names(path: Path) -> set[str]:
    return {node.attr for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Attribute)}


VIEW_MODULES = [*sorted((ROOT / "intimacy" / "views").glob("*.py")), ROOT / "accounts" / "views.py"]


@pytest.mark.parametrize("path", VIEW_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_views_run_no_queries_of_their_own(path):
    """Views fetch through the access gate and read through selectors; only the health check pings
    the database, since that ping is its whole job."""
    names = attribute_names(path)
    assert "objects" not in names
    if path.name != "health.py":
        assert "cursor" not in names and "raw" not in names


READ_MODULES = [ROOT / "intimacy" / "selectors.py", *sorted((ROOT / "intimacy" / "trends").glob("*.py"))]
WRITES = {"save", "delete", "update", "create", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}


@pytest.mark.parametrize("path", READ_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_selectors_never_write(path):
    assert attribute_names(path) & WRITES == set()


@pytest.mark.parametrize("app", ["accounts", "intimacy"])
def test_models_import_nothing_above_them(app):
    """Models sit at the bottom of their app: they may import other models and plain data, never the
    code that uses them."""
    above = ("views", "services", "selectors", "alerts", "reminders", "trends", "forms", "access", "admin")
    imported = imported_modules(ROOT / app / "models.py")
    assert {m for m in imported if m.split(".")[0] in PACKAGES and set(m.split(".")[1:2]) & set(above)} == set()
