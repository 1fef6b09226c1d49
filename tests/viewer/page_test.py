#!/usr/bin/env python3
"""Builds the fixture runs' pages with runlog-view and checks them in headless Chromium (check_page.py).
Usage: page_test.py RUNLOG_VIEW CHROMIUM OUT_DIR   (skipped, exit 77, when Chromium is missing)
"""
import os
import shutil
import subprocess
import sys

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
    return subprocess.run([sys.executable, os.path.join(HERE, "check_page.py"), shutil.which(chromium), pages, out]).returncode


if __name__ == "__main__":
    sys.exit(main())
