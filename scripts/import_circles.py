#!/usr/bin/env python3
"""Import circles between the app's modules: `scripts/import_circles.py`.

Reads every non-test source file under src-tauri/src, finds which top-level module of the
crate it belongs to (checkins, relay, donotknock, ...) and which others it names
(`crate::x`, `super::x` at the top, `use crate::{x, ...}`), and reports every cycle among
them. Test files (`tests.rs`, `*_tests.rs`, `tests/`) may reach across. Exits 1 when there is
a cycle, so CI can hold the line.
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "src-tauri" / "src"
# The wiring and the IPC adapter know every domain by design; `commands` is the thin layer.
ADAPTERS = {"lib", "commands", "state"}


def module_of(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return parts[0]


def is_test(path: pathlib.Path) -> bool:
    name = path.name
    return name == "tests.rs" or name.endswith("_tests.rs") or "tests" in path.parts[:-1]


def without_tests(text: str) -> str:
    """Drops `#[cfg(test)]` items (a test module written inline)."""
    return re.split(r"#\[cfg\(test\)\]\s*mod tests\s*\{", text)[0]


def names(text: str) -> set[str]:
    found = set(re.findall(r"\bcrate::([a-z_]+)", text))
    for group in re.findall(r"\buse crate::\{([^}]*)\}", text):
        found.update(re.findall(r"^\s*([a-z_]+)", part)[0] for part in group.split(",") if part.strip())
    return found


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    modules = {p.stem for p in ROOT.glob("*.rs")} | {p.name for p in ROOT.iterdir() if p.is_dir()}
    for path in ROOT.rglob("*.rs"):
        if is_test(path):
            continue
        source = module_of(path)
        used = names(without_tests(path.read_text())) & modules
        edges.setdefault(source, set()).update(used - {source})
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found, seen = [], set()

    def walk(node: str, trail: list[str]) -> None:
        for nxt in sorted(edges.get(node, ())):
            if nxt in ADAPTERS:
                continue
            if nxt in trail:
                cycle = trail[trail.index(nxt):] + [nxt]
                key = frozenset(cycle)
                if key not in seen:
                    seen.add(key)
                    found.append(cycle)
            elif len(trail) < 12:
                walk(nxt, trail + [nxt])

    for start in sorted(edges):
        if start not in ADAPTERS:
            walk(start, [start])
    return found


def main() -> int:
    edges = graph()
    for module in sorted(edges):
        if module not in ADAPTERS:
            print(f"{module:<12} -> {', '.join(sorted(edges[module] - ADAPTERS)) or '(nothing)'}")
    found = cycles(edges)
    if found:
        print("\nimport circles:")
        for cycle in found:
            print("  " + " -> ".join(cycle))
        return 1
    print("\nno import circles between the app's modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
