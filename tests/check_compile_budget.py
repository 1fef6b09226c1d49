#!/usr/bin/env python3
"""Guards the code a translation unit that logs makes: compiles probe units (the same ones bench/compile_time.py
times) with `-std=c++20 -O2 -c` and fails when an object's text grows past the budget recorded below.

Text size, unlike time, is deterministic for one compiler version, so the budgets are kept per compiler major
version; with a compiler that has none the test is skipped (exit 77), not passed. When a change makes a unit
smaller, lower its budget; when it must make one larger, raise it in the same commit and say why.

    tests/check_compile_budget.py <c++ compiler> <include dir>"""
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from compile_time import runlog_tu, text_size  # noqa: E402  (the probes are the benchmark's own units)

SKIP = 77

# (name, header, calls, extra flags): the units, each a function of 10 calls at most with its arguments as
# parameters. Header-only units generate the default logger's whole path (COMDAT, once per program after
# linking); compiled ones only the call sites.
PROBES = (
    ("header-only umbrella, no call", "runlog/runlog.hpp", 0, []),
    ("header-only umbrella, 1 call", "runlog/runlog.hpp", 1, []),
    ("header-only umbrella, 10 calls", "runlog/runlog.hpp", 10, []),
    ("compiled umbrella, 10 calls", "runlog/runlog.hpp", 10, ["-DRUNLOG_SEPARATE"]),
    ("compiled log.hpp, 10 calls", "runlog/log.hpp", 10, ["-DRUNLOG_SEPARATE"]),
)

# Text bytes per unit, by compiler and major version: what the unit measured when the budget was set, plus
# about 7-10% for legitimate growth. Measured (file names mapped, so the same wherever the project lies):
# g++ 12.2 95, 39555, 41184, 1973, 1973; clang 14.0.6 95, 35844, 37914, 1973, 1973. Before the two build
# modes a header-only unit with one call made about 90 KB. The crash handler added 6 KB (g++) and 2 KB (clang)
# to header-only units: each logger type's last record and flush at a crash, and the registry's crash hooks.
# Issue 17's speed work brought g++'s one-call unit to 42,405. The backtrace (issue 18) added 1.8 KB: every
# pipeline's handle() splits into the level test and write(), with the backtrace's keep and dump reached through
# pointers (the ring's own code is compiled only where a backtrace is turned on), a crash dumps them, and a
# pipeline's destructor frees its rings. Measured then: g++ 12.2 95, 44200, 45396, 1973, 1973; clang 14.0.6
# 95, 45746, 47816, 1973, 1973 (clang's budgets had fallen behind before it: 44302 and 46372 at cb2ab45).
BUDGETS = {
    ("g++", 12): {
        "header-only umbrella, no call": 200,
        "header-only umbrella, 1 call": 46_500,
        "header-only umbrella, 10 calls": 48_000,
        "compiled umbrella, 10 calls": 2_300,
        "compiled log.hpp, 10 calls": 2_300,
    },
    ("clang++", 14): {
        "header-only umbrella, no call": 200,
        "header-only umbrella, 1 call": 48_500,
        "header-only umbrella, 10 calls": 50_500,
        "compiled umbrella, 10 calls": 2_300,
        "compiled log.hpp, 10 calls": 2_300,
    },
}


def compiler_id(cxx: str) -> tuple[str, int] | None:
    """("g++" or "clang++", major version) of a compiler command, or None when it is neither."""
    out = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout
    first = out.splitlines()[0] if out else ""
    m = re.search(r"clang version (\d+)", first)
    if m:
        return "clang++", int(m.group(1))
    m = re.search(r"\b(\d+)\.\d+(\.\d+)?", first)
    if m and ("g++" in first or "GCC" in first or "Free Software" in out):
        return "g++", int(m.group(1))
    return None


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    cxx, include = sys.argv[1], sys.argv[2]
    ident = compiler_id(cxx)
    budgets = BUDGETS.get(ident) if ident else None
    if not budgets:
        print(f"no budgets recorded for {cxx} ({ident}): skipped")
        return SKIP
    failures = []
    sizes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, header, calls, flags in PROBES:
            src = pathlib.Path(tmp) / "probe.cpp"
            obj = pathlib.Path(tmp) / "probe.o"
            src.write_text(runlog_tu(header, calls))
            # File names end up in the object (source locations): map them, so that where the project and the
            # temporary directory lie does not change the size.
            cmd = [cxx, "-std=c++20", "-O2", f"-I{include}", f"-ffile-prefix-map={include}=include",
                   f"-ffile-prefix-map={tmp}=probe", *flags, "-c", str(src), "-o", str(obj)]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{name}: the probe does not compile:\n  {' '.join(cmd)}\n{done.stderr}")
                return 1
            size, budget = text_size(obj), budgets[name]
            sizes[name] = size
            verdict = "ok" if size <= budget else "OVER BUDGET"
            print(f"{name:34} {size:7} bytes of text (budget {budget}): {verdict}")
            if size > budget:
                failures.append(name)
    if not sizes[PROBES[0][0]] < sizes[PROBES[1][0]] < sizes[PROBES[2][0]]:
        print("the probes with calls made no more code than the one without: they measure nothing")
        return 1
    if failures:
        print(f"\n{len(failures)} unit(s) grew past their budget: {', '.join(failures)}. Find what a logging unit now "
              "compiles that it did not (nm -S --size-sort -C on the object), or raise the budget in "
              "tests/check_compile_budget.py and say why in the commit.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
