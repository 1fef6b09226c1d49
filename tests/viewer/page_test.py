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
    code = max(code, big_log(view, shutil.which(chromium), out))
    if len(sys.argv) > 4:
        code = max(code, demo_page(view, shutil.which(chromium), sys.argv[4], out))
    return code


def big_log(view, chromium, out):
    """A raw log over 5 MB: the page holds its first 5 MB and says so."""
    with tempfile.TemporaryDirectory() as tmp:
        home = os.path.join(tmp, "home")
        shutil.copytree(os.path.join(HERE, "fixtures"), home)
        log = os.path.join(home, "storage", "1a2b3c4d-0000-4000-8000-000000000001", "compute_logs", "extract_trips.out")
        line = b"\x1b[32mrow\x1b[0m " + b"x" * 90 + b"\n"
        with open(log, "wb") as f:
            f.write(line * (6 * 1024 * 1024 // len(line) + 1))
        page = os.path.join(out, "big-log.html")
        subprocess.run([view, "--home", home, "html", "1a2b3c4d", "-o", page], check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as prof:
        dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                              "--disable-background-networking", "--disable-component-update", "--disable-sync",
                              "--user-data-dir=" + prof, "--dump-dom",
                              "file://" + page + "#step=extract_trips&view=stdout"],
                             capture_output=True, text=True, timeout=300).stdout
    notice = re.search(r'<div id="trunc"( hidden="")?[^>]*>([^<]*)<', dom)
    ok = bool(notice) and not notice.group(1) and "first 5 MB" in notice.group(2) and "\x1b" not in dom
    print(("ok   " if ok else "FAIL ") + "a 6 MB raw log: the first 5 MB shown, with a notice" +
          ("" if ok else ": %r" % (notice.group(0) if notice else None,)))
    return 0 if ok else 1


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
