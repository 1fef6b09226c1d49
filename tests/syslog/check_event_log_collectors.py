"""The collector configurations of docs/collectors/, tried with the real collectors on real runs' event logs.

usage: check_event_log_collectors.py SYSLOG_PROBE CACHE_DIR

The probe (syslog_probe.cpp) stores runs whose records carry hostile values (quotes, backslashes, newlines,
non-ASCII, invalid bytes) under a temporary storage directory: one before the collector starts, one while it
runs (a run directory it has to discover). Each documented configuration is run with its paths pointed there:
  - rsyslog (imfile + mmjsonparse), Debian's rsyslogd, installed when missing and possible;
  - syslog-ng (wildcard-file + json-parser), Debian's syslog-ng-core 3.38, which conflicts with the rsyslog
    package, so it is fetched with `apt-get download` into CACHE_DIR and run from there.
Every line of every events.jsonl must come out of the collector once, with each of its fields parsed to the
same value. A collector that cannot be obtained is reported as skipped; with neither, the script exits 77.
"""
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, "..", "..", "docs", "collectors")
SYSLOG_NG_DEPS = ["libivykis0", "libnet1", "libjson-c5", "libglib2.0-0", "libwrap0", "libpcre3", "libcap2"]


def fail(why):
    print("FAIL:", why)
    sys.exit(1)


def apt_install(packages):
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + packages
    print("installing:", " ".join(packages), flush=True)
    if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode == 0:
        return True
    subprocess.run(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL)
    return subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode == 0


def rsyslogd_binary():
    for c in (shutil.which("rsyslogd"), "/usr/sbin/rsyslogd"):
        if c and os.access(c, os.X_OK):
            return c
    apt_install(["rsyslog"])
    return "/usr/sbin/rsyslogd" if os.access("/usr/sbin/rsyslogd", os.X_OK) else None


def syslog_ng_binary(cache):
    """Debian's syslog-ng-core unpacked into cache (its package conflicts with rsyslog's): (binary, env, modules)."""
    root = os.path.join(cache, "syslog-ng-core")
    binary = os.path.join(root, "usr", "sbin", "syslog-ng")
    if not os.path.exists(binary):
        os.makedirs(cache, exist_ok=True)
        for d in glob.glob(os.path.join(cache, "syslog-ng-core_*.deb")):
            os.remove(d)
        got = subprocess.run(["apt-get", "download", "syslog-ng-core"], cwd=cache, capture_output=True, text=True)
        if got.returncode != 0 and os.geteuid() == 0:
            subprocess.run(["apt-get", "update", "-qq"], stdout=subprocess.DEVNULL)
            got = subprocess.run(["apt-get", "download", "syslog-ng-core"], cwd=cache, capture_output=True, text=True)
        debs = glob.glob(os.path.join(cache, "syslog-ng-core_*.deb"))
        if got.returncode != 0 or not debs:
            print("  apt-get download syslog-ng-core failed:", got.stderr.strip()[-300:])
            return None
        if subprocess.run(["dpkg-deb", "-x", debs[0], root]).returncode != 0:
            return None
    libdir = os.path.join(root, "usr", "lib", "syslog-ng")
    modules = glob.glob(os.path.join(libdir, "3.*"))
    if not modules:
        return None
    env = dict(os.environ, LD_LIBRARY_PATH=libdir)
    missing = subprocess.run(["ldd", binary], env=env, capture_output=True, text=True).stdout.count("not found")
    if missing:
        apt_install(SYSLOG_NG_DEPS)
        if subprocess.run(["ldd", binary], env=env, capture_output=True, text=True).stdout.count("not found"):
            print("  syslog-ng's libraries are missing:", " ".join(SYSLOG_NG_DEPS))
            return None
    return binary, env, modules[0]


class Receiver:
    """A Unix datagram socket that the probe's syslog sink sends to; this test only needs it drained."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.stop = False
        self.thread = threading.Thread(target=self.drain, daemon=True)
        self.thread.start()

    def drain(self):
        while not self.stop:
            try:
                self.sock.recv(70000)
            except OSError:
                pass


def store_run(probe, work, tag, count):
    proc = subprocess.run([probe, "local", os.path.join(work, "sink.sock"), os.path.join(work, f"mirror-{tag}.jsonl")],
                          input=f"run {tag} {count}\nquit\n", capture_output=True, text=True, timeout=60)
    if proc.returncode != 0 or not proc.stdout.startswith("ok "):
        fail(f"the probe could not store a run: {proc.stdout} {proc.stderr}")
    return proc.stdout.split()[1]


def flat(obj, prefix=""):
    """A JSON object as name -> text, nested names joined by dots, values as collectors write them."""
    out = {}
    for k, v in obj.items():
        name = prefix + k
        if isinstance(v, dict):
            out.update(flat(v, name + "."))
        elif isinstance(v, bool):
            out[name] = "true" if v else "false"
        elif isinstance(v, list):
            out[name] = v
        else:
            out[name] = str(v)
    return out


def event_lines(storage):
    lines = []
    for path in sorted(glob.glob(os.path.join(storage, "*", "events.jsonl"))):
        with open(path, "rb") as f:
            for raw in f.read().split(b"\n"):
                if raw:
                    lines.append(flat(json.loads(raw)))
    return lines


def output_records(path):
    if not os.path.exists(path):
        return []
    records = []
    with open(path, "rb") as f:
        for raw in f.read().split(b"\n"):
            try:
                records.append(flat(json.loads(raw)))
            except ValueError:
                pass  # empty, or being written
    return records


def same(want, got):
    """Equal text, or the same number written another way (syslog-ng 3.38 writes 0.5 as 0.500000)."""
    if want == got:
        return True
    try:
        return isinstance(got, str) and "." in got and float(want) == float(got)
    except (TypeError, ValueError):
        return False


def compare(name, expected, got, list_as):
    """Each expected line once in got, with every field equal (lists as the collector writes them)."""
    remaining = list(got)
    for e in expected:
        want = {k: list_as(v) if isinstance(v, list) else v for k, v in e.items()}
        match = None
        for i, g in enumerate(remaining):
            if all(same(v, g.get(k)) for k, v in want.items()):
                match = i
                break
        if match is None:
            near = [g for g in remaining if g.get("timestamp") == e.get("timestamp") and g.get("body") == e.get("body")]
            diff = {k: (v, near[0].get(k)) for k, v in want.items() if near and not same(v, near[0].get(k))}
            fail(f"{name}: this event log line did not come out with its fields: {e}\n  closest: {diff or near}")
        remaining.pop(match)
    extra = [g for g in remaining if g.get("run_id")]
    if extra:
        fail(f"{name}: {len(extra)} records came out that no event log holds (duplicates?): {extra[:2]}")


def configured(doc, replacements):
    with open(os.path.join(DOCS, doc)) as f:
        text = f.read()
    for old, new in replacements:
        if old not in text:
            fail(f"{doc} no longer holds {old!r}, which this test points elsewhere")
        text = text.replace(old, new)
    return text


def run_collector(name, argv, env, work, probe, out_path, list_as):
    log = open(os.path.join(work, f"{name}.log"), "w")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        time.sleep(1.0)  # let it find the files there are
        if proc.poll() is not None:
            with open(log.name) as f:
                fail(f"{name} exited at start ({proc.returncode}): {f.read()[-2000:]}")
        store_run(probe, work, f"during_{name.replace('-', '_')}", 12)  # a run directory made while it runs
        expected = event_lines(os.path.join(work, "storage"))
        deadline = time.time() + 30
        while time.time() < deadline and len([r for r in output_records(out_path) if r.get("run_id")]) < len(expected):
            time.sleep(0.1)
        time.sleep(0.5)
        compare(name, expected, output_records(out_path), list_as)
        print(f"{name}: all {len(expected)} lines of {len(glob.glob(os.path.join(work, 'storage', '*', 'events.jsonl')))} "
              "event logs came out once, every field parsed to its value")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    if len(sys.argv) != 3:
        fail(__doc__)
    probe, cache = sys.argv[1], os.path.abspath(sys.argv[2])
    ran = 0
    work = tempfile.mkdtemp(prefix="runlog-collect-")
    receiver = Receiver(os.path.join(work, "sink.sock"))
    storage = os.path.join(work, "storage")
    store_run(probe, work, "before", 15)

    rsyslogd = rsyslogd_binary()
    if rsyslogd is None:
        print("SKIP rsyslog: rsyslogd is not installed and could not be (apt-get install rsyslog, as root)")
    else:
        out = os.path.join(work, "rsyslog-out", "events.jsonl")
        conf = os.path.join(work, "rsyslog.conf")
        with open(conf, "w") as f:
            f.write(f'global(workDirectory="{work}" maxMessageSize="64k")\n')
            f.write(configured("rsyslog-runlog-events.conf", [
                ("/srv/pipelines/.runlog/storage/*/events.jsonl", storage + "/*/events.jsonl"),
                ("/var/log/runlog/", os.path.join(work, "rsyslog-out") + "/")]))
        # rsyslog's JSON keeps the values' types; arrays stay arrays.
        run_collector("rsyslog", [rsyslogd, "-n", "-f", conf, "-i", os.path.join(work, "rsyslogd.pid")], None, work,
                      probe, out, lambda v: v)
        ran += 1

    ng = syslog_ng_binary(cache)
    if ng is None:
        print("SKIP syslog-ng: Debian's syslog-ng-core could not be downloaded and unpacked")
    else:
        binary, env, modules = ng
        out = os.path.join(work, "syslog-ng-out", "events.jsonl")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        conf = os.path.join(work, "syslog-ng.conf")
        with open(conf, "w") as f:
            f.write(configured("syslog-ng-runlog-events.conf", [
                ('base-dir("/srv/pipelines/.runlog/storage")', f'base-dir("{storage}")'),
                ("/var/log/runlog/", os.path.dirname(out) + "/")]))
        # syslog-ng 3.38's json-parser turns an array of strings into its items joined by commas.
        run_collector("syslog-ng", [binary, "-F", "-f", conf, f"--module-path={modules}", "-R",
                                    os.path.join(work, "syslog-ng.persist"), "-p", os.path.join(work, "syslog-ng.pid"),
                                    "-c", os.path.join(work, "syslog-ng.ctl"), "--no-caps"], env, work, probe, out,
                      lambda v: ",".join(v))
        ran += 1

    receiver.stop = True
    shutil.rmtree(work, ignore_errors=True)
    if ran == 0:
        return 77
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
