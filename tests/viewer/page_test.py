#!/usr/bin/env python3
"""Builds the fixture runs' pages with runlog-view and checks them in headless Chromium (check_page.py).
Then, given the demo (examples/quickstart), runs it, builds its run's page, checks it shows the demo's steps and
events, and keeps a screenshot of it (OUT_DIR/demo.png).
Usage: page_test.py RUNLOG_VIEW CHROMIUM OUT_DIR [QUICKSTART]   (skipped, exit 77, when Chromium is missing)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PAGES = {"ok.html": "1a2b3c4d", "failed.html": "5e6f", "crashed.html": "9c0d", "evil.html": "d00d"}


def main():
    view, chromium, out = sys.argv[1:4]
    if not shutil.which(chromium):
        print("chromium not found: skipped (scripts/test installs it)")
        return 77
    pages = os.path.join(out, "pages")
    os.makedirs(pages, exist_ok=True)
    for name, run in PAGES.items():
        p = subprocess.run([view, "--home", os.path.join(HERE, "fixtures"), "html", run, "-o", os.path.join(pages, name)],
                           capture_output=True, text=True)
        if p.returncode != 0:
            print(f"runlog-view html {run} failed: {p.stderr}")
            return 1
    code = subprocess.run([sys.executable, os.path.join(HERE, "check_page.py"), shutil.which(chromium), pages, out]).returncode
    if len(sys.argv) > 4:
        code = max(code, demo_page(view, shutil.which(chromium), sys.argv[4], out))
    return code


def demo_page(view, chromium, quickstart, out):
    """The demo's run page: its three steps on the timeline, all its events listed, a screenshot kept."""
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, RUNLOG_HOME=home, NO_COLOR="1")
        subprocess.run([quickstart], env=env, capture_output=True, check=True)
        page = os.path.join(out, "demo.html")
        subprocess.run([view, "--home", home, "html", "latest", "-o", page], check=True, capture_output=True)
        with open(os.path.join(home, "storage", "runs.jsonl")) as f:
            run_id = f.readline().split('"run_id":"')[1].split('"')[0]
        with open(os.path.join(home, "storage", run_id, "events.jsonl")) as f:
            n = sum(1 for _ in f)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--window-size=1280,900"]
    failures = 0
    with tempfile.TemporaryDirectory() as prof:
        dom = subprocess.run([chromium] + flags + ["--user-data-dir=" + prof, "--dump-dom", "file://" + page],
                             capture_output=True, text=True, timeout=180).stdout
    bars = sorted(set(re.findall(r'class="bar[^"]*"[^>]*data-step="([^"]+)"', dom) +
                      re.findall(r'data-step="([^"]+)"[^>]*class="bar[^"]*"', dom)))
    count = re.search(r'id="match-count"[^>]*>([^<]*)<', dom)
    for name, ok, got in [("demo page: one timeline bar per step", bars == ["manhattan_stats", "taxi_trips_file",
                                                                              "taxi_zones_file"], bars),
                          ("demo page: every event listed", bool(count) and count.group(1).startswith("%d of %d" % (n, n)),
                           count.group(1) if count else None)]:
        print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": %r" % (got,)))
        failures += 0 if ok else 1
    with tempfile.TemporaryDirectory() as prof:
        shot = os.path.join(out, "demo.png")
        subprocess.run([chromium] + flags + ["--user-data-dir=" + prof, "--screenshot=" + shot, "file://" + page],
                       capture_output=True, timeout=180)
    ok = os.path.exists(shot) and os.path.getsize(shot) > 10000
    print(("ok   " if ok else "FAIL ") + "demo page: screenshot " + shot)
    return 1 if failures or not ok else 0


if __name__ == "__main__":
    sys.exit(main())
