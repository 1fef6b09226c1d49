#!/usr/bin/env python3
"""Runs tests/event_types.cpp and checks the JSON type of every field it wrote: each field name has one type
everywhere (the JSON formatter, sync and async, the run's events.jsonl and runs.jsonl), lists are arrays and
numbers are numbers.

    check_event_types.py EVENT_TYPES_EXE WORK_DIR"""
import glob
import json
import os
import shutil
import subprocess
import sys

EVENTS = """RUN_START RUN_SUCCESS RUN_FAILURE RUN_CANCELED STEP_START STEP_SUCCESS STEP_FAILURE STEP_SKIPPED
STEP_UP_FOR_RETRY STEP_RESTARTED STEP_INPUT STEP_OUTPUT STEP_WORKER_STARTING STEP_WORKER_STARTED
RESOURCE_INIT_STARTED RESOURCE_INIT_SUCCESS RESOURCE_INIT_FAILURE ENGINE_EVENT LOGS_CAPTURED
ASSET_MATERIALIZATION ASSET_MATERIALIZATION_PLANNED ASSET_OBSERVATION ASSET_FAILED_TO_MATERIALIZE LOADED_INPUT
HANDLED_OUTPUT""".split()

STRING, INTEGER, NUMBER, STRINGS = "string", "integer", "number", "array of strings"
# The type of every attribute a built-in event (or the run itself) writes.
ATTRIBUTES = {
    "duration_ms": NUMBER, "wait_seconds": NUMBER, "attempt": INTEGER, "pid": INTEGER,
    "failed_steps": STRINGS, "step_keys": STRINGS,
    **{k: STRING for k in """reason error_type error_message input_name type_name output_name worker resources
       file_key stdout_path stderr_path asset_key description manager_key upstream_output upstream_step
       executor signal""".split()},
}
# runs.jsonl's keys.
INDEX = {"run_id": STRING, "job_name": STRING, "status": STRING, "start_time": STRING, "end_time": STRING,
         "duration_ms": NUMBER, "failed_steps": STRINGS, "pid": INTEGER, "events": STRING, "tags": "object"}


def type_of(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return INTEGER
    if isinstance(v, float):
        return NUMBER
    if isinstance(v, str):
        return STRING
    if isinstance(v, list):
        return STRINGS if all(isinstance(x, str) for x in v) else "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def fits(actual, expected):
    return actual == expected or (expected == NUMBER and actual == INTEGER)


def lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f.read().splitlines()]


def main():
    exe, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    proc = subprocess.run([exe, work], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        sys.exit(f"FAIL: {exe} exited {proc.returncode}\n{proc.stderr}")
    problems = []
    runs = glob.glob(os.path.join(work, "storage", "*", "events.jsonl"))
    if len(runs) != 1:
        sys.exit(f"FAIL: expected one run's events.jsonl, found {runs}")
    for path in [os.path.join(work, "sync.jsonl"), os.path.join(work, "async.jsonl"), runs[0]]:
        seen = set()
        for n, rec in enumerate(lines(path), 1):
            event = rec.get("event_type")
            if not event:
                continue
            seen.add(event)
            for key, value in rec.get("attributes", {}).items():
                expected = ATTRIBUTES.get(key)
                actual = type_of(value)
                if expected is None:
                    problems.append(f"{path}:{n}: {event} has an attribute {key!r} this check does not know: "
                                    f"add its type to ATTRIBUTES")
                elif not fits(actual, expected):
                    problems.append(f"{path}:{n}: {event}.{key} is a {actual} ({value!r}), expected a {expected}")
        missing = [e for e in EVENTS if e not in seen]
        if missing:
            problems.append(f"{path}: no record of {missing}")
    index = lines(os.path.join(work, "storage", "runs.jsonl"))
    if len(index) != 2 or index[1].get("status") != "FAILURE":
        problems.append(f"runs.jsonl: expected a STARTED and a FAILURE line, got {index}")
    for n, rec in enumerate(index, 1):
        for key, value in rec.items():
            expected = INDEX.get(key)
            if expected is None:
                problems.append(f"runs.jsonl:{n}: unknown key {key!r}")
            elif not fits(type_of(value), expected):
                problems.append(f"runs.jsonl:{n}: {key} is a {type_of(value)} ({value!r}), expected a {expected}")
    if index and index[-1].get("failed_steps") != ["load"]:
        problems.append(f"runs.jsonl: failed_steps {index[-1].get('failed_steps')!r}, expected ['load']")
    if problems:
        print("FAIL:\n" + "\n".join(problems))
        sys.exit(1)
    print(f"ok: {len(EVENTS)} event types, every attribute's JSON type as declared, in 3 files and runs.jsonl")


if __name__ == "__main__":
    main()
