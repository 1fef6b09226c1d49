"""Runs the external_loggers example in a fresh directory with RUNLOG_CONFIG and checks what reached its run:
the std::clog line, SQLite's error and spdlog's records, each with its level and step, in events.jsonl;
and the JSON file that config.yaml alone added to the default logger.

usage: check.py EXECUTABLE CONFIG
"""
import json
import os
import subprocess
import sys
import tempfile


def fail(why):
    print("FAIL:", why)
    sys.exit(1)


def main():
    exe, config = sys.argv[1], os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, RUNLOG_HOME=os.path.join(tmp, ".runlog"), RUNLOG_CONFIG=config)
        done = subprocess.run([exe], cwd=tmp, env=env, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            fail(f"exit status {done.returncode}: {done.stderr}")
        storage = os.path.join(tmp, ".runlog", "storage")
        runs = [d for d in os.listdir(storage) if os.path.isdir(os.path.join(storage, d))]
        if len(runs) != 1:
            fail(f"expected one run, found {runs}")
        with open(os.path.join(storage, runs[0], "events.jsonl"), encoding="utf-8") as f:
            events = [json.loads(line) for line in f]
        want = [("iostream.clog", "INFO", "extract", "reading 3 files"),
                ("spdlog.db", "INFO", "extract", "connected to :memory:"),
                ("sqlite", "ERROR", "load", "no such table: missing"),
                ("spdlog.db", "WARNING", "load", "1 rows rejected")]
        for logger, severity, step, body in want:
            found = [e for e in events if e.get("logger") == logger and body in e.get("body", "")]
            if len(found) != 1:
                fail(f"{logger} {body!r}: {len(found)} records, expected 1")
            e = found[0]
            if e["severity_text"] != severity or e.get("step_key") != step or e.get("run_id") != runs[0]:
                fail(f"{logger} {body!r}: {e}")
        handler_file = os.path.join(tmp, "external_loggers.jsonl")
        if not os.path.exists(handler_file):
            fail("config.yaml's json_file handler wrote nothing")
        with open(handler_file, encoding="utf-8") as f:
            lines = [json.loads(line) for line in f]
        bodies = [r["body"] for r in lines]
        for _, _, _, body in want:
            if not any(body in b for b in bodies):
                fail(f"{body!r} is not in the handler's file")
        if not any(r.get("event_type") == "RUN_SUCCESS" for r in lines):
            fail("the handler's file lacks RUN_SUCCESS")
    print(f"ok: {len(events)} events, {len(lines)} lines in the handler's file")


main()
