#!/usr/bin/env python3
"""runlog-view serve, as a client sees it: pages, raw logs, a live stream of a run being written, refused paths,
bounded requests, a clean stop on SIGTERM and SIGINT, and a storage it never writes to.
Usage: check_serve.py RUNLOG_VIEW
"""
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = "9c0d1e2f-0000-4000-8000-000000000003"  # the fixture's crashed run, made alive again below
OK = "1a2b3c4d-0000-4000-8000-000000000001"
failures = 0


def check(name, ok, detail=""):
    global failures
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)[:2000]))
    failures += 0 if ok else 1


def tree_digest(root, skip=()):
    h = hashlib.sha256()
    for dirpath, _dirs, files in sorted(os.walk(root)):
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            if path in skip:
                continue
            st = os.stat(path)
            h.update(path.encode())
            h.update(str(st.st_mtime_ns).encode() + str(st.st_mode).encode())
            with open(path, "rb") as f:
                h.update(f.read())
        h.update(("|".join(sorted(os.listdir(dirpath)))).encode())
    return h.hexdigest()


def get(port, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body, r


def raw_request(port, data):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(data)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return out


def start(view, home):
    proc = subprocess.Popen([view, "--home", home, "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stdout.readline().decode()
    m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not m:
        proc.kill()
        raise SystemExit("serve did not say where it listens: " + line + proc.stderr.read().decode())
    return proc, int(m.group(1))


def main():
    view = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        home = os.path.join(tmp, "home")
        shutil.copytree(os.path.join(HERE, "fixtures"), home)
        storage = os.path.join(home, "storage")
        run_dir = os.path.join(storage, RUN)
        events = os.path.join(run_dir, "events.jsonl")
        out_log = os.path.join(run_dir, "compute_logs", "explode.out")
        index = os.path.join(storage, "runs.jsonl")
        # The run is alive: its pid is this test's, and its torn last line is being written.
        with open(index, encoding="utf-8") as f:
            text = f.read().replace('"pid":2147483646', '"pid":%d' % os.getpid())
        with open(index, "w", encoding="utf-8") as f:
            f.write(text)
        before_times = {p: (os.stat(p).st_atime_ns, os.stat(p).st_mtime_ns) for p in (events, out_log)}
        before = tree_digest(storage)

        proc, port = start(view, home)
        try:
            status, body, _ = get(port, "/")
            check("/ lists the runs", status == 200 and RUN.encode() in body and b"crashed?" not in body, body[:300])
            check("/ escapes a job name", b"<script>alert" not in body and b"&lt;script&gt;alert" in body)
            status, body, _ = get(port, "/api/runs")
            runs = json.loads(body)
            check("/api/runs is JSON, newest first", status == 200 and runs[0]["run_id"].startswith("d00dfeed"), body[:200])
            status, body, _ = get(port, "/runs/" + OK)
            check("a run page, with its data, live", status == 200 and b'id="runlog-data"' in body and b'"live":true' in body)
            check("a served page links the whole raw logs", b'"logs_url":"/runs/%s/logs/"' % OK.encode() in body)
            second = subprocess.run([view, "--home", home, "serve", "--port", str(port)], capture_output=True, timeout=20)
            check("a second server on the same port is refused", second.returncode == 1 and
                  b"another server there" in second.stderr, second.stderr)
            status, body, r = get(port, "/runs/%s/logs/extract_zones.out" % OK)
            check("a raw log, whole, as a download", status == 200 and body == open(
                os.path.join(storage, OK, "compute_logs", "extract_zones.out"), "rb").read()
                  and "attachment" in (r.getheader("Content-Disposition") or ""), (status, body))
            for path in ["/runs/../runs.jsonl", "/runs/%s/logs/..%%2f..%%2fruns.jsonl" % OK, "/runs/%s/logs/%%2e%%2e" % OK,
                         "/runs/%s/logs/../events.jsonl" % OK, "/runs/%2e%2e/logs/runs.jsonl", "/etc/passwd",
                         "//etc/passwd", "/runs/%2Fetc%2Fpasswd", "/runs/%s/logs/extract_zones.txt" % OK,
                         "/runs/%s/logs/%%2Fetc%%2Fpasswd.out" % OK, "/runs/nope", "/api/runs/nope/stream",
                         "/runs/" + OK + "/logs/.out"]:
                status, body, _ = get(port, path)
                check("404 for " + path, status == 404 and b"root:" not in body, (status, body[:100]))
            # Make a symlink escape: a compute log that points outside the storage is refused too.
            os.symlink("/etc/passwd", os.path.join(storage, OK, "compute_logs", "link.out"))
            status, body, _ = get(port, "/runs/%s/logs/link.out" % OK)
            check("404 for a symlink out of the storage", status == 404 and b"root:" not in body, status)
            os.unlink(os.path.join(storage, OK, "compute_logs", "link.out"))
            reply = raw_request(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
            check("an oversized request is refused", reply.startswith(b"HTTP/1.1 4") or reply == b"", reply[:60])
            reply = raw_request(port, b"POST /api/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 1000)
            check("a large body is refused (4xx, or the connection closed)",
                  reply.startswith(b"HTTP/1.1 4") or reply == b"", reply[:60])

            # The live stream: events and compute-log bytes appended while a client listens, then the end.
            with open(events, "rb") as f:
                data = f.read()
            complete = data[:data.rfind(b"\n") + 1]
            n_events = complete.count(b"\n")
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
            offsets = json.dumps({"explode": {"out": len(b"about to"), "err": 0}})
            c.request("GET", "/api/runs/%s/stream?events=%d&offsets=%s" % (RUN, n_events, urllib.parse.quote(offsets)))
            r = c.getresponse()
            check("the stream is text/event-stream", r.status == 200 and
                  r.getheader("Content-Type", "").startswith("text/event-stream"), r.status)

            def append(path, b):
                with open(path, "ab") as f:
                    f.write(b)

            # The torn line gets its end; two more events; bytes to stdout (a UTF-8 character split across writes).
            append(events, b'ne"}\n')
            append(out_log, b" explode\n\xe2\x9c")
            time.sleep(0.3)
            append(out_log, b"\x93 done\n")
            line = {"timestamp": "2026-12-04T18:00:00.050000Z", "severity_text": "ERROR", "severity_number": 17,
                    "body": "Execution of step \"explode\" failed. std::bad_alloc: out of memory", "logger": "runlog",
                    "event_type": "STEP_FAILURE", "run_id": RUN, "job_name": "nightly", "step_key": "explode",
                    "attributes": {"error_type": "std::bad_alloc", "error_message": "out of memory"}}
            append(events, (json.dumps(line) + "\n").encode())
            end = dict(line, event_type="RUN_FAILURE", body="Execution of run for \"nightly\" failed.", step_key=None)
            del end["step_key"]
            time.sleep(0.3)
            append(events, (json.dumps(end) + "\n").encode())
            got, deadline = b"", time.monotonic() + 15
            while b"event: end" not in got and time.monotonic() < deadline:
                chunk = r.read1(65536) if hasattr(r, "read1") else r.read(1)
                if not chunk:
                    break
                got += chunk
            c.close()
            messages = []
            for block in got.decode("utf-8", "replace").split("\n\n"):
                kind = re.search(r"^event: (\w+)", block, re.M)
                payload = re.search(r"^data: (.*)$", block, re.M)
                if kind and payload:
                    messages.append((kind.group(1), json.loads(payload.group(1))))
            streamed = [e for k, m in messages if k == "events" for e in m["events"]]
            check("the stream sends each new event once, in order",
                  [e["msg"] for e in streamed] == ["half a line", line["body"], end["body"]], [e["msg"] for e in streamed])
            text = "".join(m["text"] for k, m in messages if k == "log" and m["key"] == "explode" and m["stream"] == "out")
            check("the stream sends new compute-log bytes, whole characters", text == " explode\n\u2713 done\n", repr(text))
            check("the stream ends after the run's end", messages and messages[-1][0] == "end", [k for k, _ in messages])
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = "hung"
        check("SIGTERM stops it cleanly", code == 0, code)
        # SIGINT right after the start, ten times: a signal before the server runs must not be lost.
        codes = []
        for _ in range(10):
            proc, port = start(view, home)
            proc.send_signal(signal.SIGINT)
            try:
                codes.append(proc.wait(timeout=10))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                codes.append("hung")
        check("SIGINT stops it cleanly, also at once", codes == [0] * 10, codes)
        # Nothing but what the test appended changed: put those bytes back and compare the whole tree.
        with open(events, "wb") as f:
            f.write(data)
        with open(out_log, "wb") as f:
            f.write(b"about to")
        os.utime(events, ns=(before_times[events]))
        os.utime(out_log, ns=(before_times[out_log]))
        check("the storage is as it was (serve never writes)", tree_digest(storage) == before)
    print("%d failures" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
