"""The package's shape, held against docs/ARCHITECTURE.md: no import cycle between modules or
between folders, every arrow pointing down the layer table, kernels importing only kernels and
foundations, short modules, few flat modules.

Layers come from the layout, not from a list here: every ``_*kernels.py`` module is a kernel
module (a row of its own); every other module belongs to its folder (``lda_sketch/stats/``,
``data_prep/``) or is a flat module of ``lda_sketch/`` (a row of its own). The table in
docs/ARCHITECTURE.md gives each row its layer, top to bottom; a row may import only rows below
it. Imports inside functions count.
"""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "lda_sketch"
PACKAGES = ("lda_sketch", "data_prep")
DOC = ROOT / "docs" / "ARCHITECTURE.md"
LAYERS = ("orchestration", "structures", "kernels", "foundations")  # top to bottom
MAX_LINES = 400
MAX_FLAT_MODULES = 12
KERNEL = re.compile(r"_\w*kernels")


def _modules() -> dict[str, tuple[Path, bool]]:
    """dotted name -> (path, is package) for every module of lda_sketch and data_prep."""
    mods = {}
    for top in PACKAGES:
        for p in (ROOT / top).rglob("*.py"):
            parts = list(p.relative_to(ROOT).with_suffix("").parts)
            is_pkg = parts[-1] == "__init__"
            mods[".".join(parts[:-1] if is_pkg else parts)] = (p, is_pkg)
    return mods


def _import_graph() -> dict[str, set[str]]:
    """module -> in-package modules it imports anywhere (functions included). ``from pkg import
    sub`` counts as importing ``pkg.sub``; a module's own ancestor packages are not edges (Python
    imports them first whatever the module says)."""
    mods = _modules()
    graph = {m: set() for m in mods}
    for m, (path, is_pkg) in mods.items():
        here = m.split(".") if is_pkg else m.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = here[:len(here) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in mods]
                cands = subs if len(subs) == len(node.names) else [target, *subs]
            elif isinstance(node, ast.Import):
                cands = [a.name for a in node.names]
            else:
                continue
            graph[m] |= {c for c in cands if c in mods and c != m and not m.startswith(c + ".")}
    return graph


def _is_kernel(module: str) -> bool:
    return KERNEL.fullmatch(module.rsplit(".", 1)[-1]) is not None


def _row(module: str) -> str:
    """The ARCHITECTURE.md row a module belongs to, as a repository path."""
    mods = _modules()
    path, is_pkg = mods[module]
    rel = path.relative_to(ROOT)
    if _is_kernel(module) or len(rel.parts) == 2 and rel.parts[0] == "lda_sketch":
        return rel.as_posix()  # a kernel module, or a flat module of lda_sketch/
    return f"{rel.parts[0]}/" if rel.parts[0] != "lda_sketch" else f"lda_sketch/{rel.parts[1]}/"


def _doc_rows() -> list[tuple[str, str]]:
    """(path, layer) of each row of the layer table, top to bottom."""
    rows = []
    for line in DOC.read_text("utf-8").splitlines():
        m = re.match(r"\|\s*`([^`]+)`\s*\|\s*(\w+)\s*\|", line)
        if m and m.group(2) in LAYERS:
            rows.append((m.group(1), m.group(2)))
    return rows


def _row_graph() -> dict[str, set[str]]:
    graph = {}
    for m, deps in _import_graph().items():
        graph.setdefault(_row(m), set()).update(_row(d) for d in deps if _row(d) != _row(m))
    return graph


def _cycles(graph) -> list[list[str]]:
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_rows_follow_the_layout():
    assert _row("lda_sketch.stats._cm_kernels") == "lda_sketch/stats/_cm_kernels.py"
    assert _row("lda_sketch.stats.countmin") == "lda_sketch/stats/"
    assert _row("lda_sketch.stats") == "lda_sketch/stats/"
    assert _row("lda_sketch.rng") == "lda_sketch/rng.py"
    assert _row("data_prep.pipeline") == "data_prep/"
    assert _row("data_prep._kernels") == "data_prep/_kernels.py"


def test_no_import_cycles_counting_imports_inside_functions():
    assert _cycles(_import_graph()) == []


def test_no_folder_cycles():
    """Folders (and kernel and flat modules) as nodes: a loop such as stats -> io -> stats made of
    acyclic module imports still fails here."""
    assert _cycles(_row_graph()) == []


def test_the_layer_table_has_one_row_per_folder_kernel_and_flat_module():
    rows = [p for p, _ in _doc_rows()]
    assert sorted(rows) == sorted(set(rows)), "a row appears twice in docs/ARCHITECTURE.md"
    assert sorted(rows) == sorted({_row(m) for m in _modules()})


def test_layers_run_top_to_bottom_and_kernel_rows_are_kernels():
    rows = _doc_rows()
    order = [LAYERS.index(layer) for _, layer in rows]
    assert order == sorted(order), rows
    for path, layer in rows:
        is_kernel = KERNEL.fullmatch(Path(path).stem) is not None
        assert (layer == "kernels") == is_kernel, (path, layer)
        if layer == "foundations":
            assert path.count("/") == 1 and path.endswith(".py"), f"{path}: a foundation is flat"


def test_every_arrow_points_down_the_table():
    position = {p: i for i, (p, _) in enumerate(_doc_rows())}
    up = sorted(f"{m} -> {d}" for m, deps in _import_graph().items() for d in deps
                if _row(d) != _row(m) and position[_row(d)] <= position[_row(m)])
    assert up == []


def test_kernels_import_only_kernels_and_foundations():
    layer = dict(_doc_rows())
    bad = sorted(f"{m} -> {d}" for m, deps in _import_graph().items() if _is_kernel(m)
                 for d in deps if layer[_row(d)] not in ("kernels", "foundations"))
    assert bad == []


def test_no_module_over_the_line_limit():
    long = {str(p.relative_to(ROOT)): n for p, _ in _modules().values()
            if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_few_flat_modules():
    flat = sorted(p.name for p in PKG.glob("*.py"))
    assert len(flat) <= MAX_FLAT_MODULES, flat


def _files_with(*needles):
    return sorted(str(p.relative_to(ROOT)) for p, _ in _modules().values()
                  if any(n in p.read_text("utf-8") for n in needles))


def test_mpi_lives_in_the_distributed_layer():
    found = _files_with("import mpi4py", "from mpi4py")
    assert found and all(f.startswith("lda_sketch/distributed/") for f in found), found


def test_library_code_never_configures_logging():
    found = _files_with("basicConfig", "addHandler", "StreamHandler", "logging.getLogger().")
    assert found and all(f.startswith("lda_sketch/cli/") for f in found), found


@pytest.mark.parametrize("module", ["lda_sketch.stats.countmin", "data_prep.embedded"])
def test_the_checks_see_real_edges(module):
    """The graph is not empty by accident: known imports are edges."""
    assert _import_graph()[module]
