#!/usr/bin/env python3
"""runlog-view's terminal commands over the fixture runs (tests/viewer/fixtures), against golden outputs.

Each case runs one command and compares its exit status, stdout (byte for byte) and stderr with
tests/viewer/golden/<name>.{out,err}. Then: --follow on a run that a writer appends to while it reads, and torn
index lines. Usage: check_cli.py RUNLOG_VIEW [--update]   (--update rewrites the golden files)
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HOME = os.path.join(HERE, "fixtures")
GOLDEN = os.path.join(HERE, "golden")

OK, FAIL, TINY = "1a2b3c4d", "5e6f", "1a2b9999"
CRASHED, EVIL = "9c0d1e2f-0000-4000-8000-000000000003", "d00d"

CASES = [
    ("runs", ["runs"]),
    ("runs_json", ["runs", "--json"]),
    ("runs_color", ["--color=always", "runs"]),
    ("events_all", ["events", OK]),
    ("events_color", ["events", OK, "--color", "always", "level:INFO"]),
    ("events_step", ["events", OK, "step:extract_zones"]),
    ("events_step_wildcard", ["events", OK, "step:extract_*"]),
    ("events_step_two", ["events", OK, "step:join_stats", "step:*trips"]),
    ("events_type", ["events", OK, "type:STEP_SUCCESS", "type:step_start"]),
    ("events_level", ["events", OK, "level:WARNING"]),
    ("events_level_info", ["events", OK, "level:info"]),
    ("events_query", ["events", OK, "query:TRIPS"]),
    ("events_words", ["events", OK, "downloaded", "zones"]),
    ("events_mixed", ["events", OK, "step:extract_*", "level:DEBUG", "chunk"]),
    ("events_none", ["events", OK, "step:nothing"]),
    ("events_type_typo", ["events", OK, "type:STEP_SUCESS"]),
    ("events_failed_json", ["events", FAIL, "type:STEP_FAILURE", "--json"]),
    ("events_failed", ["events", FAIL, "level:ERROR"]),
    ("events_latest", ["events", "latest"]),
    ("events_crashed", ["events", CRASHED]),
    ("events_crashed_follow", ["events", "9c0d", "--follow", "type:STEP_START"]),
    ("logs_out", ["logs", OK, "extract_zones"]),
    ("logs_err", ["logs", OK, "extract_zones", "--stderr"]),
    ("logs_partial", ["logs", "9c0d", "explode"]),
    ("logs_evil", ["logs", EVIL, "<img src=x onerror=window.__pwned=1>"]),
    ("err_no_run", ["events", "zz"]),
    ("err_ambiguous", ["events", "1a2b"]),
    ("err_empty_run", ["events", ""]),
    ("err_missing_run", ["events"]),
    ("err_level", ["events", OK, "level:LOUD"]),
    ("err_empty_step", ["events", OK, "step:"]),
    ("err_no_step_log", ["logs", OK, "nothing"]),
    ("err_logs_args", ["logs", OK]),
    ("err_command", ["bogus"]),
    ("err_option", ["runs", "--frobnicate"]),
    ("err_port", ["serve", "--port", "http"]),
    ("err_extra", ["runs", "more"]),
    ("err_no_storage", ["--home", "/nonexistent/runlog", "runs"]),
]


def run(view, args, env_extra=None, home=HOME):
    env = dict(os.environ, NO_COLOR="", RUNLOG_HOME="/nonexistent/unused")
    env.update(env_extra or {})
    if "--home" not in args:
        args = ["--home", home] + args
    p = subprocess.run([view] + args, capture_output=True, env=env, timeout=60)
    # Paths differ between checkouts: golden files hold <HOME>.
    return p.returncode, p.stdout.replace(home.encode(), b"<HOME>"), p.stderr.replace(home.encode(), b"<HOME>")


def main():
    view = sys.argv[1]
    update = "--update" in sys.argv
    os.makedirs(GOLDEN, exist_ok=True)
    failures = 0

    def check(name, ok, detail=""):
        nonlocal failures
        print(("ok   " if ok else "FAIL ") + name + (": " + detail if detail and not ok else ""))
        failures += 0 if ok else 1

    for name, args in CASES:
        code, out, err = run(view, args)
        got = b"exit %d\n" % code
        paths = {".out": out, ".err": got + err}
        for ext, data in paths.items():
            path = os.path.join(GOLDEN, name + ext)
            if update:
                with open(path, "wb") as f:
                    f.write(data)
            with open(path, "rb") as f:
                want = f.read()
            check(f"{name}{ext} ({' '.join(args)})", data == want,
                  f"\n--- expected\n{want.decode(errors='replace')}\n--- got\n{data.decode(errors='replace')}")

    # --storage reads a storage directory itself (a run_options{.base_dir} that is not <home>/storage).
    with tempfile.TemporaryDirectory() as tmp:
        elsewhere = os.path.join(tmp, "my runs")
        shutil.copytree(os.path.join(HOME, "storage"), elsewhere)
        code, out, _ = run(view, ["--home", "/nonexistent/unused", "--storage", elsewhere, "runs"])
        with open(os.path.join(GOLDEN, "runs.out"), "rb") as f:
            want = f.read()
        check("--storage DIR reads the runs stored in DIR", code == 0 and out.replace(elsewhere.encode(), b"<HOME>/storage") == want,
              out.decode(errors="replace"))

    # --follow prints what a writer appends, and stops at the run's end event.
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(HOME, os.path.join(tmp, "home"))
        home = os.path.join(tmp, "home")
        events = os.path.join(home, "storage", "1a2b3c4d-0000-4000-8000-000000000001", "events.jsonl")
        with open(events, encoding="utf-8") as f:
            lines = f.read().splitlines(True)
        head, tail = lines[:5], lines[5:]
        with open(events, "w", encoding="utf-8") as f:
            f.writelines(head)
        env = dict(os.environ, NO_COLOR="1")
        proc = subprocess.Popen([view, "--home", home, "events", OK, "--follow"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)

        def writer():
            for i, line in enumerate(tail):
                time.sleep(0.05)
                with open(events, "a", encoding="utf-8") as f:
                    if i == 3:  # a line written in two pieces: never shown half
                        f.write(line[:40])
                        f.flush()
                        time.sleep(0.4)
                        f.write(line[40:])
                    else:
                        f.write(line)

        t = threading.Thread(target=writer)
        start = time.monotonic()
        t.start()
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        t.join()
        code, want, _ = run(view, ["events", OK])
        check("follow: every event once, in order, then exit 0", proc.returncode == 0 and out == want,
              f"exit {proc.returncode}, {len(out.splitlines())} lines, expected {len(want.splitlines())}\n{err.decode()}")
        check("follow: no note about the half-written line", b"incomplete" not in err, err.decode())
        check("follow: ended soon after the end event", time.monotonic() - start < 10)

        # A torn last line in runs.jsonl is skipped and said once; a line that is not JSON too.
        index = os.path.join(home, "storage", "runs.jsonl")
        with open(index, "a", encoding="utf-8") as f:
            f.write('{"run_id":"ffff","status":"STA')
        code, out, err = run(view, ["runs"], home=home)
        check("torn index line: skipped and said once", code == 0 and err.count(b"incomplete") == 1 and b"ffff" not in out,
              err.decode())
        with open(index, "w", encoding="utf-8") as f:
            f.write("not json\n")
        code, out, err = run(view, ["runs"], home=home)
        check("a line that is no run record: said with its line number", code == 0 and b"runs.jsonl:1: not a run record" in err,
              err.decode())
        os.chmod(events, 0)
        if os.geteuid() != 0:
            code, out, err = run(view, ["events", OK], home=home)
            check("unreadable event log: one line, exit 1", code == 1 and err.count(b"\n") == 1, err.decode())
    print("%d failures" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
