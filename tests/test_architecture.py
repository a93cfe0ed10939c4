"""The layout's rules, checked on the source: packages per aggregate keep their insides to themselves.

- Another package is reached through its public face (its `__init__`), its model module, or the kernel;
  only the wiring (URLconfs, admin, AppConfig) reaches into other packages' doors (api, views, urls, admin).
- No module imports another module's private name (`from x import _y`).
- No import cycles between modules at import time (top-level imports; TYPE_CHECKING blocks are types only).
- No function-local import of the project's own modules, except in AppConfig.ready, management commands
  and a lazy load of a heavy optional library (LAZY_IMPORT_ALLOWED, with the reason).
- Model modules import only model modules, leaf policies and the kernel (they load with the app registry).
- No module over 600 lines outside migrations and demo data.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APPS = ("config", "orders", "production", "crm_sync")
OWN = APPS
MAX_LINES = 600
# Demo data is long by nature (a plant's four months), and migrations are generated.
LONG_ALLOWED = {"orders/demo.py", "production/demo.py"}
# Where an import inside a function is the point: app start-up, commands run by name.
LOCAL_IMPORT_ALLOWED = ("apps.py", "/management/commands/")
# A function-local import that lazily loads a heavy optional library: (module file, imported module): why.
LAZY_IMPORT_ALLOWED = {
    (
        "production/scheduling/engines.py",
        "production.scheduling.cpsat",
    ): "OR-Tools is large and slow to import, and only the optimised method uses it",
}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for app in APPS:
        for path in sorted((REPO / app).rglob("*.py")):
            relative = path.relative_to(REPO)
            if "migrations" in relative.parts:
                continue
            name = ".".join(relative.with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".")
    if MODULES[module].name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _top_level_imports(module: str, tree: ast.Module) -> set[str]:
    """The project's modules `module` imports when it is imported (not under TYPE_CHECKING)."""
    targets: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If):
                if not _is_type_checking(node):
                    visit(node.body)
                    visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(module, node)
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    targets.add(submodule if submodule in MODULES else source)

    visit(tree.body)
    return {target for target in targets if target in MODULES}


def _parsed() -> dict[str, ast.Module]:
    return {name: ast.parse(path.read_text(), filename=str(path)) for name, path in MODULES.items()}


PARSED = _parsed()


PACKAGES = {name for name, path in MODULES.items() if path.name == "__init__.py" and name.count(".") == 1}
DOORS = ("api", "views", "urls", "admin")
WIRING = ("config.urls", "config.api")


def _package(module: str) -> str:
    """`orders.sales.creation` → `orders.sales`; an app's own top-level module is the app's layer."""
    head = ".".join(module.split(".")[:2])
    return head if head in PACKAGES else module.split(".")[0]


def _is_wiring(module: str) -> bool:
    return module in WIRING or module.rsplit(".", 1)[-1] in ("urls", "admin", "apps")


def test_other_packages_are_reached_through_their_public_face():
    offences = []
    for module, tree in PARSED.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or node.module == "__future__":
                continue
            source = _resolve(module, node)
            target_package = _package(source)
            if source.split(".")[0] not in OWN or target_package == _package(module):
                continue
            if target_package not in PACKAGES or source == target_package:
                continue  # an app's top-level module, or the face itself
            leaf = source.rsplit(".", 1)[-1]
            if leaf == "models" or target_package == "config.kernel":
                continue
            if leaf in DOORS and _is_wiring(module):
                continue
            offences.append(f"{module}: from {source} import ...")
    assert sorted(set(offences)) == []


def test_model_modules_import_only_model_modules_policies_and_the_kernel():
    """An app's models.py imports its packages' model modules while Django loads the app registry; a model
    module that imported a package face (which imports services, which import `app.models`) would break
    start-up with a half-loaded module. Policies (the FSM's permission callables) import only the kernel."""
    offences = []
    policies_used: set[str] = set()
    for module, tree in PARSED.items():
        if not module.endswith(".models"):
            continue
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                source = _resolve(module, node)
                if source.split(".")[0] not in OWN or source.startswith(("config.kernel", "config.history")):
                    continue
                if source.endswith(".policies"):
                    policies_used.add(source)
                elif not source.endswith(".models"):
                    offences.append(f"{module}: from {source} import ...")
    # The policies a model module uses import only the kernel (anything else would load during models).
    for module in sorted(policies_used):
        offences += [
            f"{module}: imports {target}"
            for target in _top_level_imports(module, PARSED[module])
            if not target.startswith("config.kernel")
        ]
    assert offences == []


def test_no_module_imports_another_modules_private_names():
    offences = []
    for module, tree in PARSED.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                source = _resolve(module, node)
                if source != module and source.split(".")[0] in OWN:
                    offences += [
                        f"{module}: from {source} import {alias.name}"
                        for alias in node.names
                        if alias.name.startswith("_") and not alias.name.startswith("__")
                    ]
    assert offences == []


def test_no_import_cycles_between_modules():
    graph = {module: _top_level_imports(module, tree) for module, tree in PARSED.items()}
    # A package imports its own modules to export them; a module importing its package's face while the
    # face imports it is the cycle that breaks app loading, so faces count like any module.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strongconnect(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                strongconnect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in graph:
        if module not in index:
            strongconnect(module)
    # A package face importing its own modules, which import each other through the face, is fine only
    # when nothing imports back into the face: report every remaining cycle.
    assert cycles == []


def test_the_projects_own_modules_are_imported_at_the_top():
    offences = []
    for module, tree in PARSED.items():
        path = MODULES[module].relative_to(REPO).as_posix()
        if path.endswith(LOCAL_IMPORT_ALLOWED) or any(part in path for part in LOCAL_IMPORT_ALLOWED):
            continue
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom | ast.Import):
                    names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                    names += [alias.name for alias in getattr(node, "names", [])]
                    if isinstance(node, ast.ImportFrom) and node.level:
                        names = [_resolve(module, node)]
                    if (path, names[0]) in LAZY_IMPORT_ALLOWED:
                        continue
                    if any(name.split(".")[0] in OWN for name in names):
                        offences.append(f"{path}:{node.lineno} in {function.name}")
    assert offences == []


def test_no_module_is_over_600_lines():
    too_long = {
        path.relative_to(REPO).as_posix(): length
        for path in MODULES.values()
        if (length := len(path.read_text().splitlines())) > MAX_LINES
        and path.relative_to(REPO).as_posix() not in LONG_ALLOWED
    }
    assert too_long == {}
