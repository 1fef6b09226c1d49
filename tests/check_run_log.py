"""Runs a runlog example in a fresh RUNLOG_HOME and checks its stored event log and runs index with
Python's json module: every line parses, carries the fields tools rely on, and the run's events come
in Dagster's order.

usage: check_run_log.py demo|demo-fail|demo-config|parallel EXECUTABLE

demo-config runs the demo twice, without and with a RUNLOG_CONFIG that sets the console to ERROR: the
console must then show only ERROR and above, and the event log must hold the same records.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile

# Dagster's transcript under its multiprocess executor, which the demo's process_executor follows.
DAGSTER_SEQUENCE = ["RUN_START", "ENGINE_EVENT", "STEP_WORKER_STARTING", "STEP_WORKER_STARTED", "RESOURCE_INIT_STARTED",
                    "RESOURCE_INIT_SUCCESS", "LOGS_CAPTURED", "STEP_START", "STEP_OUTPUT", "ASSET_MATERIALIZATION",
                    "HANDLED_OUTPUT", "STEP_SUCCESS", "ENGINE_EVENT", "RUN_SUCCESS"]


def fail(why):
    print("FAIL:", why)
    sys.exit(1)


def load_lines(path):
    if not os.path.exists(path):
        fail(f"{path} does not exist")
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        fail(f"{path} does not end with a newline")
    objs = []
    for n, line in enumerate(data.split(b"\n")[:-1], 1):
        try:
            objs.append(json.loads(line.decode("utf-8")))
        except (ValueError, UnicodeDecodeError) as e:
            fail(f"{path}:{n}: not a JSON line ({e}): {line[:200]!r}")
    return objs


def is_subsequence(needle, hay):
    it = iter(hay)
    return all(any(x == y for y in it) for x in needle)


def run_program(args, env, cwd, timeout):
    """Runs args in a process group of its own; returns (returncode, stdout, stderr), or None when it is still
    running after timeout seconds (then the whole group, the steps' children too, is killed)."""
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None


def run(mode, exe, env_extra=None):
    args = [exe]
    if mode == "demo-fail":
        args += ["--fail", "taxi_trips_file"]
    if mode == "parallel":
        args += ["10000"]
    # Under AddressSanitizer a forked step can hang for good in the sanitizer's allocator, whose lock a thread
    # of the parent held at fork() (GCC 12's libsanitizer does not take it around fork, as glibc's malloc
    # does; see tests/test_executor.cpp): such a run is killed and tried once more, with a warning. Anywhere
    # else, and a second time, a hang fails.
    asan = os.environ.get("RUNLOG_CHECK_ASAN") == "1"
    for attempt in (1, 2):
        home = tempfile.mkdtemp(prefix="runlog_check_")
        env = dict(os.environ, RUNLOG_HOME=home, NO_COLOR="1")
        env.pop("RUNLOG_CONFIG", None)
        env.update(env_extra or {})
        result = run_program(args, env, home, 120 if asan else 300)
        if result is not None:
            break
        if not asan or attempt == 2:
            fail(f"{' '.join(args)} was still running after {120 if asan else 300} s")
        print(f"WARN: {' '.join(args)} hung under AddressSanitizer (a forked step in the sanitizer's "
              f"allocator); killed, trying once more", file=sys.stderr)
    proc = subprocess.CompletedProcess(args, result[0], result[1], result[2])
    want = 1 if mode == "demo-fail" else 0
    mode = "demo" if mode == "demo-config" else mode
    if proc.returncode != want:
        fail(f"exit status {proc.returncode}, expected {want}\n{proc.stderr[-3000:]}")

    storage = os.path.join(home, "storage")
    index = load_lines(os.path.join(storage, "runs.jsonl"))
    if len(index) != 2:
        fail(f"runs.jsonl has {len(index)} lines, expected 2")
    run_id = index[0]["run_id"]
    status = {"demo": "SUCCESS", "demo-fail": "FAILURE", "parallel": "SUCCESS"}[mode]
    if [i["status"] for i in index] != ["STARTED", status] or index[1]["run_id"] != run_id:
        fail(f"runs.jsonl: {index}")
    for key in ("job_name", "start_time", "pid", "events"):
        if key not in index[0]:
            fail(f"runs.jsonl lacks {key}")
    if "end_time" not in index[1] or "duration_ms" not in index[1]:
        fail("runs.jsonl's end line lacks end_time or duration_ms")

    events = load_lines(os.path.join(storage, run_id, "events.jsonl"))
    if os.path.join(storage, run_id, "events.jsonl") not in proc.stderr:
        fail("the program does not say where its event log is")
    for n, e in enumerate(events, 1):
        for key in ("timestamp", "severity_text", "severity_number", "body", "run_id", "job_name"):
            if key not in e:
                fail(f"events.jsonl:{n} lacks {key}: {e}")
        if e["run_id"] != run_id:
            fail(f"events.jsonl:{n} has run id {e['run_id']}")
        if list(e)[0] != "timestamp":
            fail(f"events.jsonl:{n}: timestamp is not first")
        if e.get("event_type", "").startswith("STEP_") and "step_key" not in e:
            fail(f"events.jsonl:{n}: a step event without step_key: {e}")
    types = [e.get("event_type") for e in events if "event_type" in e]

    if mode == "demo":
        if not is_subsequence(DAGSTER_SEQUENCE, types):
            fail(f"event types out of Dagster's order: {types}")
        parent = index[0]["pid"]
        for step in ("taxi_zones_file", "taxi_trips_file", "manhattan_stats"):
            mine = [e.get("event_type") for e in events if e.get("step_key") == step and "event_type" in e]
            if not is_subsequence(DAGSTER_SEQUENCE[2:6] + DAGSTER_SEQUENCE[7:12], mine):
                fail(f"{step}'s events out of Dagster's order: {mine}")
            pids = {e["process.pid"] for e in events if e.get("step_key") == step and
                    e.get("event_type") != "STEP_WORKER_STARTING"}
            if len(pids) != 1 or parent in pids:
                fail(f"{step} did not run in a process of its own: pids {pids}, parent {parent}")
        # Both downloads are launched before either ends (how much their work overlaps depends on the machine).
        launches = [i for i, t in enumerate(types) if t == "STEP_WORKER_STARTING"]
        first_end = types.index("STEP_SUCCESS")
        if len(launches) != 3 or not launches[1] < first_end:
            fail(f"taxi_zones_file and taxi_trips_file were not launched at once: {types}")
        loaded = [e for e in events if e.get("event_type") == "LOADED_INPUT"]
        ends = {e["step_key"]: i for i, e in enumerate(events) if e.get("event_type") == "STEP_SUCCESS"}
        first_load = events.index(loaded[0]) if loaded else -1
        if len(loaded) != 2 or first_load < max(ends.get("taxi_zones_file", 1 << 30), ends.get("taxi_trips_file", 1 << 30)):
            fail(f"manhattan_stats loaded its inputs before they were there: {loaded}")
        for step in ("taxi_zones_file", "taxi_trips_file", "manhattan_stats"):
            mat = [e for e in events if e.get("event_type") == "ASSET_MATERIALIZATION" and e.get("step_key") == step]
            if len(mat) != 1 or mat[0].get("attributes", {}).get("asset_key") != step:
                fail(f"no materialization of {step}: {mat}")
        logs = os.path.join(storage, run_id, "compute_logs")
        for step in ("taxi_zones_file", "taxi_trips_file", "manhattan_stats"):
            for ext in (".out", ".err", ".complete"):
                if not os.path.exists(os.path.join(logs, step + ext)):
                    fail(f"no compute log {step}{ext}")
            with open(os.path.join(logs, step + ".out")) as f:
                if f.read() != f"downloaded {step}: " + {"taxi_zones_file": "265", "taxi_trips_file": "2964624",
                                                        "manhattan_stats": "69"}[step] + " rows\n":
                    fail(f"{step}.out does not hold the step's stdout")
            with open(os.path.join(logs, step + ".err")) as f:
                # runlog's own console lines go to stderr, so into .err, as in Dagster (none at ERROR).
                if not env_extra and "LOGS_CAPTURED - Started capturing logs" not in f.read():
                    fail(f"{step}.err does not hold the step's console lines")
        captured = [e for e in events if e.get("event_type") == "LOGS_CAPTURED"]
        if sorted(e["attributes"]["step_keys"] for e in captured) != [["manhattan_stats"], ["taxi_trips_file"],
                                                                       ["taxi_zones_file"]]:
            fail(f"LOGS_CAPTURED: {captured}")
        for e in captured:
            if f"(pid: {e['process.pid']})." not in e["body"] or e["process.pid"] == parent:
                fail(f"LOGS_CAPTURED does not name the step's process: {e}")
        engine = [e["body"] for e in events if e.get("event_type") == "ENGINE_EVENT"]
        if len(engine) != 2 or \
                engine[0] != f"Executing steps using multiprocess executor: parent process (pid: {parent})" or \
                not engine[1].startswith("Multiprocess executor: parent process exiting after "):
            fail(f"the executor's opening and closing ENGINE_EVENTs: {engine}")
        users = [e for e in events if "event_type" not in e]
        if not users or not all("step_key" in e and e.get("attributes") for e in users):
            fail(f"user messages without step or fields: {users}")
    elif mode == "demo-fail":
        failure = [e for e in events if e.get("event_type") == "STEP_FAILURE"]
        if len(failure) != 1 or failure[0]["severity_text"] != "ERROR" or failure[0]["step_key"] != "taxi_trips_file":
            fail(f"STEP_FAILURE: {failure}")
        if failure[0].get("attributes", {}).get("error_type") != "std::runtime_error":
            fail(f"STEP_FAILURE's error type: {failure[0]['attributes']}")
        if types[-1] != "RUN_FAILURE" or events[-1]["severity_text"] != "ERROR":
            fail(f"the run does not end in RUN_FAILURE at ERROR: {events[-1]}")
        if "Steps failed: ['taxi_trips_file']." not in events[-1]["body"]:
            fail(f"RUN_FAILURE's message: {events[-1]['body']}")
        skipped = [e.get("step_key") for e in events if e.get("event_type") == "STEP_SKIPPED"]
        if skipped != ["manhattan_stats"]:
            fail(f"the step downstream of the failure was not skipped: {skipped}")
    else:
        seen = {}
        for e in events:
            a = e.get("attributes", {})
            if "item" in a:
                key = (a["partition"], a["item"])
                if e.get("step_key") != f"partition_{a['partition']}":
                    fail(f"record {key} carries step {e.get('step_key')}")
                seen[key] = seen.get(key, 0) + 1
        if len(seen) != 40000 or set(seen.values()) != {1}:
            fail(f"{len(seen)} distinct records, counts {set(seen.values())}; expected 40000 once each")
    print(f"ok: {mode}: {len(events)} events, run {run_id}")
    return proc, events


def demo_config(exe):
    _, plain = run("demo", exe)
    config = os.path.join(tempfile.mkdtemp(prefix="runlog_config_"), "config.yaml")
    with open(config, "w") as f:
        f.write("loggers:\n  console:\n    config:\n      log_level: ERROR\n")
    proc, quiet = run("demo-config", exe, {"RUNLOG_CONFIG": config})
    levels = [line.split(" - ")[1] for line in proc.stderr.splitlines() if line.count(" - ") >= 2]
    if any(lv not in ("ERROR", "CRITICAL") for lv in levels):
        fail(f"the console shows levels below ERROR: {sorted(set(levels))}")
    # The steps run at once, so their records interleave differently from run to run: compared as sets.
    key = lambda e: (e.get("event_type") or "", e["severity_text"], e.get("step_key") or "")
    if sorted(key(e) for e in plain) != sorted(key(e) for e in quiet):
        fail(f"the event log differs with the config: {len(plain)} vs {len(quiet)} records")
    print(f"ok: demo-config: console quiet, {len(quiet)} events as without the config")


if __name__ == "__main__":
    if sys.argv[1] == "demo-config":
        demo_config(sys.argv[2])
    else:
        run(sys.argv[1], sys.argv[2])
