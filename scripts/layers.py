#!/usr/bin/env python3
"""Checks that modules import only downward, through the layers ARCHITECTURE.md names, and that
no source file outgrows MAX_LINES.

The layer table is read from ARCHITECTURE.md (the fenced block after "## Layers"), so the
document and this check cannot drift apart: one line a layer, lowest first, as
`name: path-prefix path-prefix ...` (prefixes relative to the repository root). A file belongs
to the layer whose prefix matches it longest. A file may import its own layer and any lower
one; an import into a higher layer, or a cycle between files of different folders, fails.

Imports are the `crate::…`, `super::…` and `app::…` paths in a file (in `use` lines, braces
expanded, and inline), resolved to the module file they name. `#[cfg(test)]` blocks are
skipped: a test may reach anything.

    python3 scripts/layers.py            # check; exit 1 on a violation
    python3 scripts/layers.py --graph    # also print the folder-level arrows
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A file longer than this, counted without its #[cfg(test)] blocks, holds more than one thing.
MAX_LINES = 500
CRATES = {"app": "app/src", "server": "server/src"}


def layer_table():
    text = open(os.path.join(ROOT, "ARCHITECTURE.md"), encoding="utf-8").read()
    m = re.search(r"^## Layers\n.*?^```\n(.*?)^```", text, re.S | re.M)
    if not m:
        sys.exit("ARCHITECTURE.md has no '## Layers' section with a fenced layer table")
    layers = []
    for line in m.group(1).splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, prefixes = line.partition(":")
        layers.append((name.strip(), prefixes.split()))
    return layers


def strip_noise(src):
    """Drops comments, string literals and #[cfg(test)] items, keeping line numbers."""
    src = re.sub(r"//[^\n]*", "", src)
    src = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), src, flags=re.S)
    src = re.sub(r'r#*"(?:.|\n)*?"#*', lambda m: "\n" * m.group(0).count("\n"), src)
    src = re.sub(r'"(?:\\.|[^"\\])*"', lambda m: "\n" * m.group(0).count("\n"), src)
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{", src):
        if m.start() < i:
            continue
        depth, j = 1, m.end()
        while j < len(src) and depth:
            depth += {"{": 1, "}": -1}.get(src[j], 0)
            j += 1
        out.append(src[i:m.start()])
        out.append("\n" * src[m.start():j].count("\n"))
        i = j
    out.append(src[i:])
    return "".join(out)


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e']."""
    tree = re.sub(r"\s+", "", tree)
    m = re.match(r"^(.*?)\{(.*)\}$", tree)
    if not m:
        return [tree]
    prefix, inner = m.group(1), m.group(2)
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        cur += ch
    parts.append(cur)
    return [p for part in parts if part for p in expand_use(prefix + part)]


def module_of(path):
    """File path -> module path list, e.g. app/src/server/jobs/mod.rs -> ['server', 'jobs']."""
    for crate, base in CRATES.items():
        if path.startswith(base + "/"):
            rel = path[len(base) + 1:-3].split("/")
            if rel[-1] in ("mod", "lib", "main"):
                rel = rel[:-1]
            return crate, rel
    return None, None


REEXPORTS = {}


def reexports(path):
    """Names a module file re-exports with `pub use` -> the module path (segments) they come from."""
    if path not in REEXPORTS:
        table = {}
        crate, mod = module_of(path)
        src = strip_noise(open(os.path.join(ROOT, path), encoding="utf-8").read())
        for m in re.finditer(r"\bpub\s+use\s+([^;]+);", src):
            for p in expand_use(m.group(1)):
                segs = [s.split(" as ")[0] for s in p.split("::") if s]
                alias = p.split(" as ")[-1].split("::")[-1]
                if segs[0] == "crate":
                    table[alias] = segs[1:]
                elif segs[0] == "super":
                    here = list(mod)
                    while segs and segs[0] == "super":
                        segs, here = segs[1:], here[:-1]
                    table[alias] = here + segs
                else:
                    table[alias] = list(mod) + segs
        REEXPORTS[path] = table
    return REEXPORTS[path]


MACROS = {}


def exported_macros(files):
    """`#[macro_export]` macros live at the crate root by name; map each to its defining file."""
    for f in files:
        src = open(os.path.join(ROOT, f), encoding="utf-8").read()
        for name in re.findall(r"#\[macro_export\]\s*macro_rules!\s*(\w+)", src):
            MACROS[(module_of(f)[0], name)] = f


def resolve(crate, segs, files, depth=0):
    """Longest module prefix of segs that is a file in crate -> that file, through `pub use`."""
    base = CRATES[crate]
    if len(segs) == 1 and (crate, segs[0]) in MACROS:
        return MACROS[(crate, segs[0])]
    for n in range(len(segs), -1, -1):
        stem = os.path.join(base, *segs[:n]) if n else base
        for cand in (stem + ".rs", os.path.join(stem, "mod.rs"),
                     os.path.join(stem, "lib.rs") if n == 0 else None,
                     os.path.join(stem, "main.rs") if n == 0 else None):
            if cand and cand in files:
                rest = segs[n:]
                if rest and depth < 8 and rest[0] in reexports(cand):
                    return resolve(crate, reexports(cand)[rest[0]] + rest[1:], files, depth + 1)
                return cand
    return None


def imports(path, files):
    crate, mod = module_of(path)
    src = strip_noise(open(os.path.join(ROOT, path), encoding="utf-8").read())
    found = set()
    paths = []
    for m in re.finditer(r"\buse\s+([^;]+);", src):
        paths.extend(expand_use(m.group(1)))
    paths.extend(re.findall(r"(?<![\w:])((?:crate|super|app)(?:::\w+)+)", src))
    for p in paths:
        segs = [s for s in p.split("::") if s and s != "self" and not s.startswith("*")]
        segs = [s.split(" as ")[0] for s in segs]
        if not segs:
            continue
        if segs[0] == "crate":
            target_crate, rest = crate, segs[1:]
        elif segs[0] == "app" and crate == "server":
            target_crate, rest = "app", segs[1:]
        elif segs[0] == "super":
            # A file's module path already drops mod.rs, so each `super` is one segment up.
            here = list(mod)
            while segs and segs[0] == "super":
                segs, here = segs[1:], here[:-1]
            rest = here + segs
            target_crate = crate
        else:
            continue
        target = resolve(target_crate, rest, files)
        if target and target != path:
            found.add(target)
    return found


def strongly_connected(graph):
    """Tarjan's algorithm: the components of more than one node, each sorted."""
    index, low, stack, on, sccs = {}, {}, [], set(), []

    def strong(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
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
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            strong(v)
    return sccs


def main():
    layers = layer_table()
    files = set()
    for base in CRATES.values():
        for dirpath, _, names in os.walk(os.path.join(ROOT, base)):
            for n in names:
                if n.endswith(".rs"):
                    files.add(os.path.relpath(os.path.join(dirpath, n), ROOT))

    def layer_of(f):
        best = None
        for i, (name, prefixes) in enumerate(layers):
            for p in prefixes:
                if f == p or f == p + ".rs" or f.startswith(p.rstrip("/") + "/"):
                    if best is None or len(p) > best[1]:
                        best = (i, len(p), name)
        return best

    exported_macros(files)
    graph = {f: imports(f, files) for f in sorted(files)}
    problems = []
    for f in sorted(files):
        lines = strip_noise(open(os.path.join(ROOT, f), encoding="utf-8").read()).count("\n")
        if lines > MAX_LINES:
            problems.append(f"{f}: {lines} lines outside tests (at most {MAX_LINES}): split it")
    unlayered = [f for f in files if layer_of(f) is None]
    for f in sorted(unlayered):
        problems.append(f"{f}: in no layer of ARCHITECTURE.md")
    arrows = {}
    for f, targets in graph.items():
        lf = layer_of(f)
        for t in targets:
            lt = layer_of(t)
            if not lf or not lt:
                continue
            arrows.setdefault((lf[2], lt[2]), []).append((f, t))
            if lt[0] > lf[0]:
                problems.append(f"{f} ({lf[2]}) imports {t} ({lt[2]}), a higher layer")

    # Cycles between files. A mod.rs naming its own children (declaring, re-exporting) is
    # how Rust builds a folder, not a dependency, so those arrows are left out.
    def own_child(f, t):
        return os.path.basename(f) in ("mod.rs", "lib.rs", "main.rs") and t.startswith(
            os.path.dirname(f) + "/")

    file_graph = {f: {t for t in ts if not own_child(f, t)} for f, ts in graph.items()}
    for comp in strongly_connected(file_graph):
        problems.append("import cycle between files: " + " <-> ".join(comp))

    # Cycles between folders: a strongly connected component of the folder graph.
    folder = lambda f: os.path.dirname(f) if os.path.basename(f) != "mod.rs" else os.path.dirname(f)
    fgraph = {}
    for f, targets in graph.items():
        for t in targets:
            a, b = folder(f), folder(t)
            if a != b and not b.startswith(a + "/") and not a.startswith(b + "/"):
                fgraph.setdefault(a, set()).add(b)
    for comp in strongly_connected(fgraph):
        problems.append("import cycle between folders: " + " <-> ".join(comp))

    if "--graph" in sys.argv:
        for (a, b), pairs in sorted(arrows.items()):
            if a != b:
                print(f"{a} -> {b}: {len(pairs)}")
                if "-v" in sys.argv:
                    for f, t in sorted(pairs):
                        print(f"    {f} -> {t}")
    n_arrows = sum(len(t) for t in graph.values())
    for p in problems:
        print(p)
    print(f"layers: {len(files)} files, {n_arrows} imports between files, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
