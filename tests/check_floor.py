"""Checks that calls below the compile-time floor compiled to nothing: probe_below_floor must
disassemble to the same instructions as probe_empty, while probe_above_floor must not."""
import re
import subprocess
import sys

obj = sys.argv[1]
dump = subprocess.run(["objdump", "-d", "--no-show-raw-insn", obj], check=True,
                      capture_output=True, text=True).stdout

def body(name):
    m = re.search(r"<" + name + r">:\n(.*?)(?:\n\n|\Z)", dump, re.S)
    assert m, f"{name} not found in {obj}"
    return [line.split("\t", 1)[1].strip() for line in m.group(1).splitlines() if "\t" in line]

empty, below, above = body("probe_empty"), body("probe_below_floor"), body("probe_above_floor")
print("probe_empty:      ", empty)
print("probe_below_floor:", below)
print("probe_above_floor:", len(above), "instructions")
assert below == empty, "calls below the floor left code behind"
assert len(above) > len(empty), "the control above the floor compiled to nothing: the probe proves nothing"
print("OK: calls below the compile-time floor generate no instructions")
