#!/usr/bin/env python3
"""Measures the compile time and object size of translation units that log with runlog, beside spdlog.

For each compiler (g++, clang++) and each build mode (runlog header-only and compiled, spdlog header-only and
compiled), it compiles with `-std=c++20 -O2 -c` the umbrella header with 0, 1, 10 and 100 log calls, runlog's
log.hpp with 10 calls, the hello program (compiled and linked) and runlog's implementation unit, and prints
one Markdown table per compiler: the CPU seconds (user + system of the compiler's whole process tree, best of
--runs, the runs taken round-robin over every measurement) and the text size of each object or program,
with the bytes each call site adds. Progress goes to stderr.

    bench/compile_time.py                        # g++ and clang++, best of 5: ~10 minutes per compiler on 2 cores
    bench/compile_time.py --quick                # g++ only, 1 run, no 100-call units: a smoke test
    bench/compile_time.py --compilers g++ --runs 3 --json compile_time.json

spdlog is Debian's libspdlog-dev (1.10, built as a shared library against the external fmt); without it
the spdlog columns are skipped. Another script can import this one and reuse runlog_tu(), spdlog_tu() and
cpu_seconds()."""
import argparse
import dataclasses
import datetime
import hashlib
import itertools
import json
import os
import pathlib
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
INCLUDE = ROOT / "include"
SINGLE_INCLUDE = ROOT / "single_include"
IMPLEMENTATION = ROOT / "src" / "runlog.cpp"

CXXFLAGS = ["-std=c++20", "-O2"]
LINKFLAGS = ["-pthread"]
RUNLOG_FLAGS = {"header-only": [], "compiled": ["-DRUNLOG_SEPARATE"]}
# Debian's libspdlog-dev ships only the shared library, built with SPDLOG_COMPILED_LIB against the
# external fmt (its tweakme.h defines SPDLOG_FMT_EXTERNAL); pkg-config, when there, says the same.
SPDLOG_COMPILED = (["-DSPDLOG_SHARED_LIB", "-DSPDLOG_COMPILED_LIB", "-DSPDLOG_FMT_EXTERNAL"],
                   ["-lspdlog", "-pthread", "-lfmt"])
# Header-only spdlog (the default without SPDLOG_COMPILED_LIB) with an external fmt also needs fmt
# header-only, else the program needs libfmt.so.
SPDLOG_HEADER_ONLY = (["-DSPDLOG_HEADER_ONLY", "-DFMT_HEADER_ONLY"], ["-pthread"])

COMPILERS = {"g++": ["g++"], "clang++": ["clang++-14", "clang++"]}
CALL_COUNTS = (0, 1, 10, 100)
CALLS_PER_FUNCTION = 10
COLUMNS = (("runlog", "header-only"), ("runlog", "compiled"), ("spdlog", "header-only"), ("spdlog", "compiled"))
LOG_HPP_ROW = "log.hpp, 10 calls"
HELLO_ROW = "hello program (compile+link)"
SINGLE_ROW = "single-header hello program (compile+link)"
IMPLEMENTATION_ROW = "implementation unit src/runlog.cpp"

# The call sites: shape i % 20 at level i % 6, its message prefixed with a subject so that no two of the
# first 100 are the same. A shape is (runlog's fields or None, format, arguments); the arguments are
# parameters of the enclosing function, so nothing is constant-folded. spdlog drops the fields.
PARAMETERS = "int n, unsigned u, long l, double d, bool b, char c, const char* s, std::string_view sv"
LEVELS = ("info", "debug", "warning", "error", "trace", "critical")
SPDLOG_LEVELS = {"warning": "warn"}
SUBJECTS = ("ingest", "parse", "store", "index", "report")
SHAPES = (
    (None, "Processed {} rows in {:.2f} s from {}", "n, d, s"),
    (None, "Cache miss for key {:#x}", "u"),
    (None, "Connection pool ready", ""),
    ('{{"rows", n}, {"table", sv}}', "Loaded {} rows into {}", "n, sv"),
    (None, "Retry {} of {} after {} ms", "n, u, l"),
    (None, "Option {} set to {}", "c, b"),
    (None, "Value {:>8} with ratio {:.2f}", "l, d"),
    (None, "Opened {}", "s"),
    (None, "Checksum {:#x} does not match {:#x}", "u, l"),
    ('{{"elapsed_s", d}, {"ok", b}}', "Step finished in {:.2f} s", "d"),
    (None, "Queue depth {} exceeds {}", "l, n"),
    (None, "Shutting down", ""),
    (None, "User {} connected from {}", "sv, s"),
    (None, "Mode {} (verbose: {})", "c, b"),
    (None, "Wrote {:>8} bytes to {}", "u, s"),
    ('{{"attempt", n}, {"host", s}, {"latency_ms", d}}', "Request to {} took {:.2f} ms", "s, d"),
    (None, "Offset {} of {} ({:.2f} done)", "l, u, d"),
    (None, "Parsed {} entries", "n"),
    (None, "Column {:>8} nullable: {}", "sv, b"),
    (None, "Memory at {:.2f} MiB, limit {}", "d, l"),
)

RUNLOG_HELLO = '#include <runlog/runlog.hpp>\n\nint main() { runlog::info("hello {}", 42); }\n'
SPDLOG_HELLO = '#include <spdlog/spdlog.h>\n\nint main() { spdlog::info("hello {}", 42); }\n'


class CompileError(RuntimeError):
    """A compiler or linker command that failed; the message holds the command and its output."""


def call_statements(calls: int, library: str) -> list[str]:
    """The first `calls` statements of the fixed list of log calls, for library "runlog" or "spdlog"."""
    statements = []
    for i in range(calls):
        fields, text, args = SHAPES[i % len(SHAPES)]
        level = LEVELS[i % len(LEVELS)]
        subject = SUBJECTS[i // len(SHAPES) % len(SUBJECTS)]
        subject += str(i // (len(SHAPES) * len(SUBJECTS)) or "")  # past 100 calls: "ingest1", ...
        parts = [f'"{subject}: {text}"'] + ([args] if args else [])
        if library == "runlog":
            statements.append(f"runlog::{level}({', '.join(([fields] if fields else []) + parts)});")
        elif library == "spdlog":
            statements.append(f"spdlog::{SPDLOG_LEVELS.get(level, level)}({', '.join(parts)});")
        else:
            raise ValueError(f"unknown library {library!r}")
    return statements


def functions_source(statements: list[str]) -> str:
    """The statements as functions of at most CALLS_PER_FUNCTION each, every argument a parameter."""
    out = []
    for k in range(0, len(statements), CALLS_PER_FUNCTION):
        body = "".join(f"    {s}\n" for s in statements[k:k + CALLS_PER_FUNCTION])
        out.append(f"\nvoid log_calls_{k // CALLS_PER_FUNCTION}({PARAMETERS}) {{\n{body}}}\n")
    return "".join(out)


def runlog_tu(header: str, calls: int) -> str:
    """The source of a runlog unit: `header` ("runlog/runlog.hpp" or "runlog/log.hpp") and `calls` calls."""
    return f"#include <{header}>\n" + functions_source(call_statements(calls, "runlog"))


def spdlog_tu(calls: int) -> str:
    """The source of an spdlog unit: <spdlog/spdlog.h> and `calls` calls, the same as runlog_tu's."""
    return "#include <spdlog/spdlog.h>\n" + functions_source(call_statements(calls, "spdlog"))


def run(cmd: list[str], log: pathlib.Path) -> tuple[float, float]:
    """Runs a command with its output in `log` and its temporary files (TMPDIR) beside it; returns its CPU
    seconds (user + system of its whole process tree, from wait4's rusage, which includes the children it
    waited for) and wall seconds."""
    mode = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    actions = [(os.POSIX_SPAWN_OPEN, 1, str(log), mode, 0o644), (os.POSIX_SPAWN_DUP2, 1, 2)]
    env = {**os.environ, "TMPDIR": str(log.parent)}
    start = time.perf_counter()
    try:
        pid = os.posix_spawnp(cmd[0], cmd, env, file_actions=actions)
    except OSError as e:
        raise CompileError(f"cannot run {shlex.join(cmd)}: {e}") from None
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        output = log.read_text(errors="replace").rstrip()
        raise CompileError(f"command failed (exit status {os.waitstatus_to_exitcode(status)}):\n"
                           f"  {shlex.join(cmd)}\n{output}")
    return usage.ru_utime + usage.ru_stime, wall


def cpu_seconds(cmd: list[str], runs: int) -> float:
    """The best (least) CPU seconds of `runs` runs of a command; raises CompileError if it fails."""
    with tempfile.TemporaryDirectory() as tmp:
        return min(run(cmd, pathlib.Path(tmp) / "output.txt")[0] for _ in range(runs))


def text_size(path: pathlib.Path) -> int:
    """The text size of an object or program, as `size` (Berkeley format) reports it."""
    out = subprocess.run(["size", str(path)], check=True, capture_output=True, text=True).stdout
    return int(out.splitlines()[1].split()[0])


@dataclasses.dataclass
class Measurement:
    """One command to time: a row of a compiler's table in one column, and its results."""

    compiler: str
    library: str
    mode: str
    row: str
    cmd: list[str]
    output: pathlib.Path
    calls: int | None = None
    cpu: list[float] = dataclasses.field(default_factory=list)
    wall: list[float] = dataclasses.field(default_factory=list)
    text: int | None = None


def find_compiler(name: str) -> str | None:
    """The command for a compiler name: g++, clang++ (clang++-14 first) or any command on PATH."""
    return next((c for c in COMPILERS.get(name, [name]) if shutil.which(c)), None)


def first_line(cmd: list[str]) -> str:
    """The first line of a command's output, or "" if it cannot run."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
    except OSError:
        return ""
    return out.splitlines()[0].strip() if out.strip() else ""


def spdlog_modes() -> dict[str, tuple[list[str], list[str]]] | None:
    """The compile and link flags of spdlog's two modes, from pkg-config if it knows spdlog, else Debian's;
    None when spdlog is not installed."""
    if shutil.which("pkg-config") and subprocess.run(["pkg-config", "--exists", "spdlog"]).returncode == 0:
        cflags = shlex.split(first_line(["pkg-config", "--cflags", "spdlog"]))
        libs = shlex.split(first_line(["pkg-config", "--libs", "spdlog"]))
        library_only = {"-DSPDLOG_COMPILED_LIB", "-DSPDLOG_SHARED_LIB"}
        header_only = [f for f in cflags if f not in library_only] + SPDLOG_HEADER_ONLY[0]
        return {"header-only": (header_only, SPDLOG_HEADER_ONLY[1]), "compiled": (cflags, libs)}
    if pathlib.Path("/usr/include/spdlog/spdlog.h").is_file():
        return {"header-only": SPDLOG_HEADER_ONLY, "compiled": SPDLOG_COMPILED}
    return None


def spdlog_version() -> str:
    """spdlog's and fmt's versions, from pkg-config or dpkg."""
    versions = []
    for module, package in (("spdlog", "libspdlog-dev"), ("fmt", "libfmt-dev")):
        version = first_line(["pkg-config", "--modversion", module]) if shutil.which("pkg-config") else ""
        package_version = first_line(["dpkg-query", "-W", "-f=${Version}\n", package])
        versions.append(f"{module} {version or package_version}"
                        + (f" ({package} {package_version})" if version and package_version else ""))
    return ", ".join(versions)


def plan(name: str, cxx: str, calls: tuple[int, ...], spdlog: dict | None, src: pathlib.Path,
         out: pathlib.Path) -> list[Measurement]:
    """A compiler's measurements, in the order they run in each round."""
    out.mkdir()
    rows = []

    def add(library, mode, row, flags, source, link=None, calls=None, target=None):
        """Adds a measurement: compiling `source` to an object, or with `link` (its libraries) to a program."""
        if link is None:
            target = target or out / f"{library}-{mode}-{len(rows)}.o"
            cmd = [cxx, *CXXFLAGS, "-c", *flags, str(source), "-o", str(target)]
        else:
            target = target or out / f"{library}-{mode}-{len(rows)}"
            cmd = [cxx, *CXXFLAGS, *flags, str(source), *link, "-o", str(target)]
        rows.append(Measurement(name, library, mode, row, cmd, target, calls))

    # The implementation unit's measurement comes first and its object is the one the compiled mode's hello
    # program links: in every round that object is built before, and apart from, the timed link.
    implementation = out / "runlog-implementation.o"
    for mode, defines in RUNLOG_FLAGS.items():
        flags = [*defines, "-I", str(INCLUDE)]
        if mode == "compiled":
            add("runlog", mode, IMPLEMENTATION_ROW, flags, IMPLEMENTATION, target=implementation)
        for n in calls:
            add("runlog", mode, umbrella_row(n), flags, src / f"runlog-umbrella-{n}.cpp", calls=n)
        add("runlog", mode, LOG_HPP_ROW, flags, src / "runlog-log-10.cpp")
        extra = [str(implementation)] if mode == "compiled" else []
        add("runlog", mode, HELLO_ROW, flags, src / "runlog-hello.cpp", link=[*extra, *LINKFLAGS])
        if mode == "header-only":
            add("runlog", mode, SINGLE_ROW, ["-I", str(SINGLE_INCLUDE)], src / "runlog-hello.cpp", link=LINKFLAGS)
    for mode, (cflags, libs) in (spdlog or {}).items():
        for n in calls:
            add("spdlog", mode, umbrella_row(n), cflags, src / f"spdlog-{n}.cpp", calls=n)
        add("spdlog", mode, HELLO_ROW, cflags, src / "spdlog-hello.cpp", link=libs)
    return rows


def umbrella_row(calls: int) -> str:
    """The row label of the umbrella header with `calls` calls."""
    return f"umbrella, {calls} call{'' if calls == 1 else 's'}"


def write_sources(src: pathlib.Path, calls: tuple[int, ...]) -> None:
    """Writes every translation unit the measurements compile."""
    src.mkdir()
    for n in calls:
        (src / f"runlog-umbrella-{n}.cpp").write_text(runlog_tu("runlog/runlog.hpp", n))
        (src / f"spdlog-{n}.cpp").write_text(spdlog_tu(n))
    (src / "runlog-log-10.cpp").write_text(runlog_tu("runlog/log.hpp", 10))
    (src / "runlog-hello.cpp").write_text(RUNLOG_HELLO)
    (src / "spdlog-hello.cpp").write_text(SPDLOG_HELLO)


def bytes_per_call(rows: list[Measurement], m: Measurement) -> float | None:
    """(text(N) - text(0)) / N for an N-call umbrella measurement with N > 1, else None."""
    if not m.calls or m.calls < 2:
        return None
    base = next((r for r in rows if r.compiler == m.compiler and r.library == m.library and r.mode == m.mode
                 and r.calls == 0), None)
    return None if base is None else (m.text - base.text) / m.calls


def table(name: str, version: str, rows: list[Measurement]) -> str:
    """A compiler's Markdown table: a row per measured thing, CPU seconds and text bytes per column."""
    mine = [m for m in rows if m.compiler == name]
    order = [umbrella_row(n) for n in CALL_COUNTS] + [LOG_HPP_ROW, HELLO_ROW, SINGLE_ROW, IMPLEMENTATION_ROW]
    labels = sorted(dict.fromkeys(m.row for m in mine), key=order.index)
    heads = [f"{lib} {mode} s" for lib, mode in COLUMNS]
    heads += [f"{lib} {mode} text B (per call)" for lib, mode in COLUMNS]
    lines = [f"### {name}: {version}", "", "| | " + " | ".join(heads) + " |",
             "|---|" + "---:|" * len(heads)]
    for label in labels:
        cells = {(m.library, m.mode): m for m in mine if m.row == label}
        seconds = [f"{min(cells[c].cpu):.2f}" if c in cells else "–" for c in COLUMNS]
        sizes = []
        for c in COLUMNS:
            if c not in cells:
                sizes.append("–")
                continue
            per_call = bytes_per_call(rows, cells[c])
            sizes.append(f"{cells[c].text:,}" + (f" ({per_call:,.0f}/call)" if per_call is not None else ""))
        lines.append(f"| {label} | " + " | ".join(seconds + sizes) + " |")
    return "\n".join(lines) + "\n"


def sources_digest() -> str:
    """A digest of runlog's headers, single header and implementation unit, to tell if they change during a run."""
    digest = hashlib.sha256()
    for path in sorted(p for d in (INCLUDE, SINGLE_INCLUDE, IMPLEMENTATION.parent) for p in d.rglob("*")):
        if path.is_file():
            digest.update(f"{path}\0{path.stat().st_size}\0".encode() + path.read_bytes())
    return digest.hexdigest()


def runlog_revision() -> str:
    """The checked-out commit of the repository, marked when the work tree has changes."""
    commit = first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    if not commit:
        return "unknown"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "include", "single_include",
                            "src"], capture_output=True, text=True).stdout.strip()
    return commit + (" with local changes to include/, single_include/ or src/" if dirty else "")


def report(args, compilers: dict[str, str], versions: dict[str, str], spdlog: dict | None, spdlog_note: str,
           rows: list[Measurement], date: str, warnings: list[str]) -> str:
    """The whole Markdown report: what was measured and how, then a table per compiler."""
    lines = ["# Compile time: runlog and spdlog", "", *(f"**Warning: {w}**\n" for w in warnings),
             f"- date: {date}; nproc: {len(os.sched_getaffinity(0))}; runlog: {runlog_revision()}",
             "- compilers: " + "; ".join(f"`{cxx}`: {versions[n]}" for n, cxx in compilers.items()),
             f"- spdlog: {spdlog_note}",
             f"- flags: units `{shlex.join(CXXFLAGS)} -c`, hello programs `{shlex.join(CXXFLAGS)}` and "
             f"`{shlex.join(LINKFLAGS)}`; runlog's compiled mode adds `{shlex.join(RUNLOG_FLAGS['compiled'])}`, "
             f"runlog's include directory `-I include` (`-I single_include` for the single header)"]
    if spdlog:
        lines.append(f"- spdlog flags: header-only `{shlex.join(spdlog['header-only'][0])}`; compiled "
                     f"`{shlex.join(spdlog['compiled'][0])}`, linked with `{shlex.join(spdlog['compiled'][1])}`")
    lines += [f"- method: best (minimum) of {args.runs} run{'s' if args.runs > 1 else ''}, taken round-robin "
              "over all measurements; CPU s = user + system time of the compiler's whole process tree "
              "(driver, cc1plus or clang, as, ld), from wait4's rusage",
              "- units: \"umbrella\" is `#include <runlog/runlog.hpp>` (for spdlog `#include <spdlog/spdlog.h>`) "
              f"and N calls to the default logger in functions of {CALLS_PER_FUNCTION} calls taking the "
              "arguments as parameters (int, unsigned, long, double, bool, char, const char*, "
              "std::string_view; 0 to 3 arguments; all six levels; some with fields, which spdlog's calls drop)",
              "- text B: the text size `size` reports for the object (for a hello program, the executable: "
              "it counts runlog's compiled object linked into it, not libspdlog.so, libfmt.so or libstdc++); "
              "per call: (text(N) - text(0)) / N; in a header-only mode the first call also brings the "
              "library's inline code into the object, which the 10-call figure spreads over only 10 calls",
              "- compiled runlog's hello program links the implementation object, which each round builds "
              "beforehand (the implementation unit's measurement), so it is not part of the program's time",
              ""]
    for name in compilers:
        lines.append(table(name, versions[name], rows))
    return "\n".join(lines)


def positive(text: str) -> int:
    """An argument that must be a positive integer."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a positive integer: {text}")
    return int(text)


def main() -> int:
    """Parses the arguments, runs every measurement and prints the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compilers", help="comma-separated compilers (default g++,clang++; --quick: g++)")
    parser.add_argument("--runs", type=positive,
                        help="runs of each measurement, the best taken (default 5; --quick: 1)")
    parser.add_argument("--quick", action="store_true", help="1 run, no 100-call units, g++ only: a smoke test")
    parser.add_argument("--json", type=pathlib.Path, help="also write every run's numbers to this JSON file")
    args = parser.parse_args()
    args.runs = args.runs or (1 if args.quick else 5)
    names = (args.compilers or ("g++" if args.quick else "g++,clang++")).split(",")
    calls = tuple(n for n in CALL_COUNTS if not (args.quick and n == 100))

    compilers, versions = {}, {}
    for name in names:
        cxx = find_compiler(name)
        if cxx is None:
            print(f"note: {name} not found, skipped", file=sys.stderr)
            continue
        compilers[name] = cxx
        versions[name] = first_line([cxx, "--version"])
    if not compilers:
        print("error: none of the compilers found: " + ", ".join(names), file=sys.stderr)
        return 1
    spdlog = spdlog_modes()
    spdlog_note = spdlog_version() if spdlog else "not installed (apt-get install libspdlog-dev): skipped"
    if not spdlog:
        print("note: spdlog not found (apt-get install libspdlog-dev); its columns are skipped", file=sys.stderr)
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    digest = sources_digest()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the temporary directory goes too
    with tempfile.TemporaryDirectory(prefix="runlog-compile-time-") as tmp:
        tmp = pathlib.Path(tmp)
        write_sources(tmp / "src", calls)
        plans = [plan(name, cxx, calls, spdlog, tmp / "src", tmp / name.replace("/", "_"))
                 for name, cxx in compilers.items()]
        # The compilers take turns, so that a compiler that fails does so in the first seconds.
        rows = [m for turn in itertools.zip_longest(*plans) for m in turn if m is not None]
        try:
            log = tmp / "output.txt"
            for r in range(args.runs):
                for i, m in enumerate(rows):
                    cpu, wall = run(m.cmd, log)
                    m.cpu.append(cpu)
                    m.wall.append(wall)
                    if m.text is None:
                        m.text = text_size(m.output)
                    print(f"[run {r + 1}/{args.runs}, {i + 1}/{len(rows)}] {m.compiler} {m.library} {m.mode}, "
                          f"{m.row}: {cpu:.2f} s", file=sys.stderr)
        except CompileError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1

    warnings = []
    if sources_digest() != digest:
        warnings.append("include/, single_include/ or src/ changed during the run: the rows may have measured "
                        "different versions of runlog")
        print(f"warning: {warnings[-1]}", file=sys.stderr)
    print(report(args, compilers, versions, spdlog, spdlog_note, rows, date, warnings))
    if args.json:
        data = {"date": date, "nproc": len(os.sched_getaffinity(0)), "runlog": runlog_revision(),
                "runs": args.runs, "warnings": warnings, "cxxflags": CXXFLAGS, "linkflags": LINKFLAGS,
                "compilers": versions, "spdlog": spdlog_note, "spdlog_flags": spdlog,
                "measurements": [{"compiler": m.compiler, "library": m.library, "mode": m.mode, "row": m.row,
                                  "calls": m.calls, "command": m.cmd, "cpu_seconds": m.cpu,
                                  "best_cpu_seconds": min(m.cpu), "wall_seconds": m.wall, "text_bytes": m.text,
                                  "bytes_per_call": bytes_per_call(rows, m)} for m in rows]}
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
