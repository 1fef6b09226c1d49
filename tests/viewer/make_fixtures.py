#!/usr/bin/env python3
"""Writes tests/viewer/fixtures/storage: four runs in runlog's storage layout for the viewer's tests.

The files are committed; this script is how they were made (run it again after changing it). Timestamps are fixed,
so golden outputs do not move. Runs: a successful run with two parallel steps and coloured compute logs, a failed
run, a crashed run (start line only, a dead pid, a torn last event line) and a run whose content tries to inject
markup and script into the run page.
"""
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
STORAGE = os.path.join(HERE, "fixtures", "storage")
DEAD_PID = 2147483646  # above any pid_max: never a live process

LEVELS = {"TRACE": 1, "DEBUG": 5, "INFO": 9, "WARNING": 13, "ERROR": 17, "CRITICAL": 21}


def ts(base, ms):
    total_us = base + int(round(ms * 1000))
    sec, us = divmod(total_us, 1_000_000)
    import datetime
    t = datetime.datetime.fromtimestamp(sec, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{us:06d}Z"


class Run:
    def __init__(self, run_id, job, base_us, pid, tags=None):
        self.run_id, self.job, self.base, self.pid, self.tags = run_id, job, base_us, pid, tags or {}
        self.lines = []
        self.dir = os.path.join(STORAGE, run_id)
        self.shown = "/srv/runlog/storage/" + run_id  # where the run was written (the fixture moved since)
        os.makedirs(os.path.join(self.dir, "compute_logs"), exist_ok=True)

    def event(self, ms, level, body, event_type=None, step=None, thread=None, attrs=None, logger="runlog"):
        rec = {"timestamp": ts(self.base, ms), "severity_text": level, "severity_number": LEVELS[level], "body": body,
               "logger": logger}
        if event_type:
            rec["event_type"] = event_type
        rec["run_id"] = self.run_id
        rec["job_name"] = self.job
        if step:
            rec["step_key"] = step
        rec["process.pid"] = self.pid
        rec["thread.id"] = thread or self.pid
        if attrs:
            rec["attributes"] = attrs
        self.lines.append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))

    def start(self):
        self.event(0, "DEBUG", f'Started execution of run for "{self.job}".', "RUN_START", attrs={"pid": self.pid})

    def step(self, key, t0, t1, thread, messages=(), fail=None):
        self.event(t0, "DEBUG", f"Started capturing logs in process (pid: {self.pid}).", "LOGS_CAPTURED", thread=thread,
                   attrs={"file_key": key, "step_keys": [key],
                          "stdout_path": f"{self.shown}/compute_logs/{key}.out",
                          "stderr_path": f"{self.shown}/compute_logs/{key}.err"})
        self.event(t0 + 0.1, "DEBUG", f'Started execution of step "{key}".', "STEP_START", key, thread)
        for ms, level, body, attrs in messages:
            self.event(ms, level, body, None, key, thread, attrs, logger="etl")
        if fail:
            self.event(t1, "ERROR", f'Execution of step "{key}" failed. {fail[0]}: {fail[1]}', "STEP_FAILURE", key,
                       thread, {"error_type": fail[0], "error_message": fail[1], "duration_ms": t1 - t0})
        else:
            self.event(t1 - 0.2, "DEBUG", f'Yielded output "result" of type "Any". (Type check passed).', "STEP_OUTPUT",
                       key, thread, {"output_name": "result", "type": "Any"})
            self.event(t1, "DEBUG", f'Finished execution of step "{key}" in {int(t1 - t0)}ms.', "STEP_SUCCESS", key,
                       thread, {"duration_ms": t1 - t0})

    def log(self, key, out=b"", err=b"", complete=True):
        with open(os.path.join(self.dir, "compute_logs", key + ".out"), "wb") as f:
            f.write(out)
        with open(os.path.join(self.dir, "compute_logs", key + ".err"), "wb") as f:
            f.write(err)
        if complete:
            open(os.path.join(self.dir, "compute_logs", key + ".complete"), "wb").close()

    def write(self, torn=None):
        with open(os.path.join(self.dir, "events.jsonl"), "w", encoding="utf-8") as f:
            f.write("".join(l + "\n" for l in self.lines))
            if torn:
                f.write(torn)

    def index(self, status, end_ms=None, failed=()):
        start = {"run_id": self.run_id, "job_name": self.job, "status": "STARTED", "start_time": ts(self.base, 0),
                 "pid": self.pid, "events": f"{self.shown}/events.jsonl", "tags": self.tags}
        out = [start]
        if status != "STARTED":
            end = dict(start)
            end.update(status=status, end_time=ts(self.base, end_ms), duration_ms=end_ms, failed_steps=list(failed))
            out = [start, end]
        return [json.dumps(r, separators=(",", ":")) for r in out]


def main():
    shutil.rmtree(STORAGE, ignore_errors=True)
    os.makedirs(STORAGE)
    index = []
    base = 1796400000_000000  # 2026-12-05T... (fixed)

    ok = Run("1a2b3c4d-0000-4000-8000-000000000001", "etl_job", base, 4242, {"origin": "fixture", "team": "data"})
    ok.start()
    ok.event(0.5, "DEBUG", "Executing steps in process (pid: 4242)", "ENGINE_EVENT", attrs={"executor": "in_process"})
    ok.step("extract_zones", 1, 120, 4301, [(10, "INFO", "Downloaded 265 taxi zones", {"rows": 265, "source": "zones.csv"}),
                                            (60, "WARNING", "3 zones have no borough", {"count": 3})])
    ok.step("extract_trips", 2, 180, 4302, [(30, "INFO", "Downloaded 2964624 trips", {"rows": 2964624}),
                                            (90, "DEBUG", "Parsed chunk 7 of 9", {"chunk": 7})])
    ok.step("join_stats", 190, 260, 4242, [(200, "INFO", "Joining 2964624 trips with 265 zones", None)])
    ok.event(261, "DEBUG", "Finished steps in process (pid: 4242) in 261ms", "ENGINE_EVENT", attrs={"executor": "in_process"})
    ok.event(262, "DEBUG", 'Finished execution of run for "etl_job".', "RUN_SUCCESS", attrs={"duration_ms": 262})
    ok.log("extract_zones", b"downloading zones\n\x1b[32mok\x1b[0m 265 rows\n", b"\x1b[1;33mwarning:\x1b[0m 3 zones without borough\n")
    ok.log("extract_trips", b"".join(b"chunk %d parsed\n" % i for i in range(1, 10)), b"")
    ok.log("join_stats", b"joined\n", b"")
    ok.write()
    index += ok.index("SUCCESS", 262)

    bad = Run("5e6f7a8b-0000-4000-8000-000000000002", "etl_job", base + 3_600_000_000, 4343)
    bad.start()
    bad.step("extract_zones", 1, 50, 4343, [(10, "INFO", "Downloaded 265 taxi zones", {"rows": 265})])
    bad.step("load_warehouse", 60, 95, 4343, [(70, "ERROR", "Connection refused by db.internal:5432", {"attempt": 3})],
             fail=("std::runtime_error", "could not connect to the warehouse"))
    bad.event(96, "ERROR", 'Execution of run for "etl_job" failed. Steps failed: [\'load_warehouse\'].', "RUN_FAILURE",
              attrs={"failed_steps": ["load_warehouse"], "duration_ms": 96})
    bad.log("extract_zones", b"zones ok\n", b"")
    bad.log("load_warehouse", b"connecting\n", b"error: connection refused\n")
    bad.write()
    index += bad.index("FAILURE", 96, ["load_warehouse"])

    crashed = Run("9c0d1e2f-0000-4000-8000-000000000003", "nightly", base + 7_200_000_000, DEAD_PID)
    crashed.start()
    crashed.step("crunch", 1, 40, DEAD_PID, [(20, "INFO", "Crunching 1000 rows", {"rows": 1000})])
    crashed.event(41, "DEBUG", "Started capturing logs in process (pid: %d)." % DEAD_PID, "LOGS_CAPTURED",
                  attrs={"file_key": "explode", "step_keys": ["explode"]})
    crashed.event(41.5, "DEBUG", 'Started execution of step "explode".', "STEP_START", "explode")
    crashed.log("crunch", b"crunching\n", b"")
    crashed.log("explode", b"about to", b"", complete=False)
    crashed.write(torn='{"timestamp":"' + ts(crashed.base, 42) + '","severity_text":"INFO","severity_number":9,"body":"half a li')
    index += crashed.index("STARTED")

    evil = Run("d00dfeed-0000-4000-8000-000000000004", "<script>alert('job')</script>", base + 10_800_000_000, 4545,
               {"note": "\"><img src=x onerror=alert('tag')>"})
    evil.start()
    evil_step = "<img src=x onerror=window.__pwned=1>"  # a file key cannot hold '/'
    evil.step(evil_step, 1, 30, 4545,
              [(5, "INFO", "</script><script>window.__pwned=1</script>", {"html": "\"><img src=x onerror=window.__pwned=1>"}),
               (6, "WARNING", "javascript:window.__pwned=1", {"link": "javascript:window.__pwned=1"}),
               (7, "INFO", "<img src=x onerror=window.__pwned=1> & \u2028 line separator", None)])
    evil.event(31, "DEBUG", 'Finished execution of run for "evil".', "RUN_SUCCESS", attrs={"duration_ms": 31})
    evil.log(evil_step,
             b"<script>window.__pwned=1</script>\n\x1b[31m<img src=x onerror=window.__pwned=1>\x1b[0m\n", b"javascript:alert(1)\n")
    evil.write()
    index += evil.index("SUCCESS", 31)

    # A run whose id shares its first characters with the first one: "1a2b" is ambiguous, "1a2b3" is not.
    tiny = Run("1a2b9999-0000-4000-8000-000000000005", "tiny", base - 3_600_000_000, 4141)
    tiny.start()
    tiny.event(5, "DEBUG", 'Finished execution of run for "tiny".', "RUN_SUCCESS", attrs={"duration_ms": 5})
    tiny.write()
    index = tiny.index("SUCCESS", 5) + index

    with open(os.path.join(STORAGE, "runs.jsonl"), "w", encoding="utf-8") as f:
        f.write("".join(l + "\n" for l in index))


if __name__ == "__main__":
    main()
