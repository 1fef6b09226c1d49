#!/usr/bin/env python3
"""runlog-view's run page at scale: time and peak memory to build the page for runs of 10,000 and 1,000,000
events, its size per event, and in headless Chromium the page's own performance marks (time to first screen,
time to apply a filter). Usage: bench/viewer.py RUNLOG_VIEW [CHROMIUM]   (scripts/bench-viewer builds and runs it)
"""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

LEVELS = [("DEBUG", 5), ("INFO", 9), ("WARNING", 13), ("ERROR", 17)]
TYPES = ["", "", "", "STEP_OUTPUT", "HANDLED_OUTPUT", "ASSET_MATERIALIZATION"]


def make_run(storage, n):
    """A run of n events over 40 steps on 4 threads, written as runlog writes it."""
    run_id = "bench%04d-0000-4000-8000-%012d" % (n % 10000, n)
    d = os.path.join(storage, run_id)
    os.makedirs(os.path.join(d, "compute_logs"))
    rnd = random.Random(n)
    base = 1796400000_000000
    steps = ["step_%02d" % i for i in range(40)]
    with open(os.path.join(d, "events.jsonl"), "w") as f:
        def line(us, level, body, etype=None, step=None, attrs=None):
            lv, sev = level
            sec, frac = divmod(base + us, 1_000_000)
            t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + ".%06dZ" % frac
            rec = {"timestamp": t, "severity_text": lv, "severity_number": sev, "body": body, "logger": "bench"}
            if etype:
                rec["event_type"] = etype
            rec["run_id"] = run_id
            rec["job_name"] = "bench_job"
            if step:
                rec["step_key"] = step
            rec["process.pid"] = 1000
            rec["thread.id"] = 1000 + steps.index(step) % 4 if step else 1000
            if attrs:
                rec["attributes"] = attrs
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")

        line(0, LEVELS[0], 'Started execution of run for "bench_job".', "RUN_START")
        per_step = (n - 2) // len(steps)
        us = 1
        for s in steps:
            line(us, LEVELS[0], 'Started execution of step "%s".' % s, "STEP_START", s)
            for i in range(per_step - 2):
                us += rnd.randint(1, 40)
                lv = LEVELS[min(3, int(rnd.expovariate(1.5)))]
                line(us, lv, "iteration %d value %.3f name %s" % (i, rnd.random() * 1000, rnd.choice(["alice", "bob", "carol"])),
                     rnd.choice(TYPES) or None, s, {"i": i, "rows": rnd.randint(0, 10 ** 6)})
            line(us + 1, LEVELS[0], 'Finished execution of step "%s" in 1ms.' % s, "STEP_SUCCESS", s, {"duration_ms": 1.0})
        line(us + 2, LEVELS[0], 'Finished execution of run for "bench_job".', "RUN_SUCCESS")
    with open(os.path.join(storage, "runs.jsonl"), "a") as f:
        start = {"run_id": run_id, "job_name": "bench_job", "status": "STARTED", "start_time": "2026-12-04T16:00:00.000000Z",
                 "pid": 1000, "tags": {}}
        f.write(json.dumps(start) + "\n")
        f.write(json.dumps(dict(start, status="SUCCESS", end_time="2026-12-04T16:00:10.000000Z", duration_ms=10000,
                                failed_steps=[])) + "\n")
    return run_id


def main():
    view = sys.argv[1]
    chromium = sys.argv[2] if len(sys.argv) > 2 else shutil.which("chromium")
    print("| events | build the page (s) | peak memory (MiB) | page size | bytes/event | first screen (ms) | filter (ms) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        storage = os.path.join(tmp, "storage")
        os.makedirs(storage)
        for n in (10_000, 1_000_000):
            run_id = make_run(storage, n)
            page = os.path.join(tmp, "run-%d.html" % n)
            t0 = time.monotonic()
            p = subprocess.run(["/usr/bin/time", "-f", "%M", view, "--home", tmp.rstrip("/"), "html", run_id, "-o", page],
                               capture_output=True, text=True, env=dict(os.environ, RUNLOG_HOME=tmp))
            elapsed = time.monotonic() - t0
            if p.returncode != 0:
                print(p.stderr)
                return 1
            peak_kib = int(p.stderr.strip().splitlines()[-1])
            size = os.path.getsize(page)
            first = filt = "-"
            if chromium:
                profile = os.path.join(tmp, "profile-%d" % n)
                dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                      "--disable-background-networking", "--disable-component-update", "--disable-sync",
                                      "--user-data-dir=" + profile, "--window-size=1280,800", "--virtual-time-budget=60000",
                                      "--dump-dom", "file://" + page + "#level=WARNING&q=alice"],
                                     capture_output=True, text=True, timeout=600).stdout
                m = re.search(r'<pre id="runlog-timings"[^>]*>(.*?)</pre>', dom, re.S)
                if m:
                    timings = json.loads(m.group(1).replace("&quot;", '"'))
                    first = "%.0f" % timings.get("firstScreenMs", float("nan"))
                    filt = "%.0f" % timings.get("lastFilterMs", float("nan"))
            print("| %s | %.2f | %.0f | %.1f MB | %.0f | %s | %s |" % (f"{n:,}", elapsed, peak_kib / 1024, size / 1e6,
                                                                   size / n, first, filt))
    return 0


if __name__ == "__main__":
    sys.exit(main())
