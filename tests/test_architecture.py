"""The layout docs/architecture.md describes, checked: no import cycles anywhere in bot/ (a function-level import
that hides one counts too), and a routine imports no other routine. import-linter's contracts in pyproject.toml
keep platform SDKs at the edge; this test covers what contracts cannot say."""

from __future__ import annotations

import grimp

from bot.flows.catalog import CATALOG


def _graph() -> grimp.ImportGraph:
    # Imports only for type checkers never run, so they cannot form a cycle at run time.
    return grimp.build_graph("bot", exclude_type_checking_imports=True, cache_dir=None)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each a set of modules that import each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative, so a deep import chain cannot hit the recursion limit.
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_in_bot_takes_part_in_an_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "b", "c", "d"):
        graph.add_module(module)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="c")
    graph.add_import(importer="c", imported="a")
    graph.add_import(importer="c", imported="d")
    assert _cycles(graph) == [["a", "b", "c"]]


def test_a_routine_imports_no_other_routine() -> None:
    graph = _graph()
    packages = {routine.name: f"bot.flows.{routine.name}" for routine in CATALOG.routines}
    crossings = []
    for name, package in packages.items():
        for other_name, other in packages.items():
            if other_name != name and graph.chain_exists(importer=package, imported=other, as_packages=True):
                crossings.append(f"{name} -> {other_name}")
    assert crossings == []


def test_only_the_catalog_imports_routines() -> None:
    graph = _graph()
    for routine in CATALOG.routines:
        package = f"bot.flows.{routine.name}"
        importers = {
            importer
            for module in {package, *graph.find_descendants(package)}
            for importer in graph.find_modules_that_directly_import(module)
        }
        outside = {m for m in importers if m != package and not m.startswith(package + ".")}
        assert outside <= {"bot.flows.catalog"}, f"{package} is imported by {sorted(outside)}"
