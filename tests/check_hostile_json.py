"""Runs the hostile JSON generator and parses its output with Python's json module.

Each line must be strict JSON whose body and "value" attribute equal the input decoded as
UTF-8 with invalid sequences replaced by U+FFFD (Python's own replacement rule)."""
import json
import subprocess
import sys

generator, prefix = sys.argv[1], sys.argv[2]
subprocess.run([generator, prefix], check=True)
with open(prefix + ".expected") as f:
    expected = [bytes.fromhex(line.strip()).decode("utf-8", "replace") for line in f]
with open(prefix + ".jsonl", "rb") as f:
    raw = f.read()
raw.decode("utf-8")  # the whole file must be valid UTF-8
lines = raw.split(b"\n")
assert lines[-1] == b"", "the file must end with a newline"
lines = lines[:-1]
assert len(lines) == len(expected), f"{len(lines)} lines for {len(expected)} inputs"
for i, (line, want) in enumerate(zip(lines, expected)):
    obj = json.loads(line)
    assert obj["body"] == want, f"line {i + 1}: body differs"
    assert obj["attributes"]["value"] == want, f"line {i + 1}: attribute differs"
    assert obj["attributes"]["key\"\x01\ufffd"] == 1, f"line {i + 1}: hostile key lost"
    assert obj["run_id"] == "run\"id\n" and obj["job_name"] == "job\ufffd" and obj["step_key"] == "step\\"
    assert obj["severity_text"] == "INFO" and obj["severity_number"] == 9
    assert obj["timestamp"].endswith("Z") and len(obj["timestamp"]) == 27
print(f"{len(lines)} hostile JSON lines parsed and matched")
