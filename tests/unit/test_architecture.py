"""The package's shape: no import cycles, short modules, layers that depend only downward."""
import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "lda_sketch"
MAX_LINES = 400


def _modules() -> dict[str, tuple[Path, bool]]:
    mods = {}
    for p in PKG.rglob("*.py"):
        parts = list(p.relative_to(PKG.parent).with_suffix("").parts)
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


def test_no_import_cycles_counting_imports_inside_functions():
    assert _cycles(_import_graph()) == []


def test_no_module_over_the_line_limit():
    long = {str(p.relative_to(PKG.parent)): n for p, _ in _modules().values()
            if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES}
    assert long == {}


# The bottom layer: jitted kernels and the counter-based RNG take arrays and return arrays.
KERNELS = ("lda_sketch.rng", "lda_sketch.sampler._kernels", "lda_sketch.stats._cm_kernels",
           "lda_sketch.stats._cmm_kernels", "lda_sketch.stats._prefetch_kernels",
           "lda_sketch.stats._dense_kernels", "lda_sketch.evaluation._kernels",
           "lda_sketch.stats._hash_kernels", "lda_sketch.io._text_kernels")
# The top layer: nothing below may import these.
ORCHESTRATION = ("lda_sketch.api.estimator", "lda_sketch.run.train", "lda_sketch.sweep",
                 "lda_sketch.cli", "lda_sketch.run.data", "lda_sketch.run.interrupts")
STRUCTURES = ("lda_sketch.stats", "lda_sketch.sampler", "lda_sketch.io", "lda_sketch.evaluation",
              "lda_sketch.model.topic_model")
ALLOWED_BELOW = ("lda_sketch._validation", "lda_sketch.exceptions", "lda_sketch.limits",
                 "lda_sketch._version", "lda_sketch.rng", "lda_sketch.stats._hash_kernels",
                 "lda_sketch.stats._morris_kernels")


def _under(m, prefixes):
    return any(m == p or m.startswith(p + ".") for p in prefixes)


def test_kernels_import_only_kernels():
    graph = _import_graph()
    bad = {m: sorted(d for d in deps if not _under(d, KERNELS + ALLOWED_BELOW))
           for m, deps in graph.items() if _under(m, KERNELS)}
    assert {m: d for m, d in bad.items() if d} == {}


def test_structures_never_import_orchestration():
    graph = _import_graph()
    bad = {m: sorted(d for d in deps if _under(d, ORCHESTRATION))
           for m, deps in graph.items() if _under(m, STRUCTURES)}
    assert {m: d for m, d in bad.items() if d} == {}


def _files_with(*needles):
    return sorted(str(p.relative_to(PKG.parent)) for p, _ in _modules().values()
                  if any(n in p.read_text("utf-8") for n in needles))


def test_mpi_lives_in_the_distributed_layer():
    found = _files_with("import mpi4py", "from mpi4py")
    assert found and all(f.startswith("lda_sketch/distributed/") for f in found), found


def test_library_code_never_configures_logging():
    found = _files_with("basicConfig", "addHandler", "StreamHandler", "logging.getLogger().")
    assert found and all(f.startswith("lda_sketch/cli/") for f in found), found
