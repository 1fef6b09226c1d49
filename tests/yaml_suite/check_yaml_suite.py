#!/usr/bin/env python3
"""Runs runlog's YAML reader over the yaml-test-suite cases in data/ and compares what it reads with in.json.

A case is one folder with in.yaml, and in.json (the value as JSON) or error (the input is invalid YAML).
Outcomes:
  pass      valid, read, and equal to in.json (plain scalars typed by YAML 1.2's core schema); or invalid
            and refused
  refused   valid, but outside runlog's subset: refused with an error (allowed: never a guess)
  unchecked valid without in.json (no JSON equivalent) and read
  MISREAD   valid, read, and different from in.json          -> the check fails
  ACCEPTED  invalid, but read without an error               -> the check fails
Every case named in expected_pass.txt must pass, so a feature that stops working fails the check too.
Usage: check_yaml_suite.py YAML_DUMP DATA_DIR EXPECTED_PASS [--update] [--verbose]
"""
import json
import math
import os
import re
import subprocess
import sys

INT = re.compile(r"[-+]?[0-9]+$")
OCT = re.compile(r"0o[0-7]+$")
HEX = re.compile(r"0x[0-9a-fA-F]+$")
FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def core_schema(text):
    """The value of a plain scalar under YAML 1.2's core schema."""
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if INT.match(text):
        return int(text)
    if OCT.match(text):
        return int(text[2:], 8)
    if HEX.match(text):
        return int(text[2:], 16)
    if FLOAT.match(text):
        return float(text)
    if re.match(r"[-+]?\.(inf|Inf|INF)$", text):
        return -math.inf if text.startswith("-") else math.inf
    if text in (".nan", ".NaN", ".NAN"):
        return math.nan
    return text


class Unrepresentable(Exception):
    pass


def to_value(tree):
    if tree is None:
        return None
    if "p" in tree:
        return core_schema(tree["p"])
    if "q" in tree:
        return tree["q"]
    if "s" in tree:
        return [to_value(item) for item in tree["s"]]
    out = {}
    for key, value in tree["m"]:
        if key is None:
            k = ""
        elif "p" in key or "q" in key:
            k = key.get("p", key.get("q"))
        else:
            raise Unrepresentable("a collection as a key")
        out[k] = to_value(value)
    return out


def same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def json_documents(text):
    decoder = json.JSONDecoder()
    docs, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i == len(text):
            return docs
        value, i = decoder.raw_decode(text, i)
        docs.append(value)


def cases(data_dir):
    for root, _dirs, files in os.walk(data_dir):
        if "in.yaml" in files:
            yield os.path.relpath(root, data_dir), root


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    update, verbose = "--update" in sys.argv, "--verbose" in sys.argv
    dump, data_dir, expected_file = args
    found = sorted(cases(data_dir))
    if len(found) < 300:
        print(f"only {len(found)} cases under {data_dir}: the suite's data is missing")
        return 1
    run = subprocess.run([dump] + [os.path.join(root, "in.yaml") for _id, root in found],
                         capture_output=True, text=True, encoding="utf-8", errors="surrogateescape")
    if run.returncode != 0:
        print(run.stdout, run.stderr)
        return 1
    results = [json.loads(line) for line in run.stdout.splitlines()]
    if len(results) != len(found):
        print(f"the reader printed {len(results)} results for {len(found)} cases")
        return 1
    outcome = {}
    detail = {}
    for (case_id, root), result in zip(found, results):
        invalid = os.path.exists(os.path.join(root, "error"))
        json_path = os.path.join(root, "in.json")
        if invalid:
            outcome[case_id] = "pass" if "error" in result else "ACCEPTED"
            detail[case_id] = result.get("error", json.dumps(result.get("tree")))
            continue
        if "error" in result:
            outcome[case_id] = "refused"
            detail[case_id] = result["error"]
            continue
        if not os.path.exists(json_path):
            outcome[case_id] = "unchecked"
            continue
        with open(json_path, encoding="utf-8") as f:
            docs = json_documents(f.read())
        try:
            ours = to_value(result["tree"])
        except Unrepresentable as e:
            outcome[case_id], detail[case_id] = "MISREAD", str(e)
            continue
        expected = docs[0] if len(docs) == 1 else (None if not docs else docs)
        if same(ours, expected):
            outcome[case_id] = "pass"
        else:
            outcome[case_id] = "MISREAD"
            detail[case_id] = f"read {json.dumps(ours)} but in.json holds {json.dumps(expected)}"

    counts = {}
    for o in outcome.values():
        counts[o] = counts.get(o, 0) + 1
    passing = sorted(c for c, o in outcome.items() if o == "pass")
    if update:
        with open(expected_file, "w", encoding="utf-8") as f:
            f.write("# yaml-test-suite cases runlog's YAML reader passes (check_yaml_suite.py --update writes this)\n")
            f.write("".join(c + "\n" for c in passing))
    with open(expected_file, encoding="utf-8") as f:
        expected = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    regressed = [c for c in expected if outcome.get(c) != "pass"]

    failed = False
    for case_id in sorted(outcome):
        o = outcome[case_id]
        bad = o in ("MISREAD", "ACCEPTED") or case_id in regressed
        if bad or verbose:
            with open(os.path.join(data_dir, case_id, "===")
                      if os.path.exists(os.path.join(data_dir, case_id, "==="))
                      else os.path.join(data_dir, os.path.dirname(case_id), "==="), encoding="utf-8") as f:
                name = f.read().strip()
            print(f"{o:9} {case_id} ({name}): {detail.get(case_id, '')}")
        failed |= bad
    print(f"{len(outcome)} cases: " + ", ".join(f"{counts[k]} {k}" for k in sorted(counts)) +
          f"; {len(expected)} expected to pass, {len(regressed)} of them do not")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
