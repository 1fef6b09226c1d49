#!/usr/bin/env python3
"""Browser test of runlog-view's run page: check_page.py CHROMIUM PAGES_DIR OUT_DIR

PAGES_DIR holds ok.html, failed.html, crashed.html and evil.html, the pages `runlog-view html` makes of the four
fixture runs (tests/viewer/fixtures/storage: 1a2b3c4d success, 5e6f7a8b failure, 9c0d1e2f crashed with a torn last
line, d00dfeed injection). Each check opens a page in headless chromium at a `#fragment` (the page keeps all of its
view state there), dumps the DOM after the load event (--dump-dom) and compares it with what the fixture events say:
the rows shown (`tr.ev[data-index]`, in file order), `#match-count`, the timeline's `.bar`s, the raw log in `#rawlog`,
the injected content shown as text and never run. Two pages get a probe script appended (copies in OUT_DIR): one
clicks a bar, a row and a level toggle and follows the fragment, one records whether anything injected ran. Also
saves OUT_DIR/ok.png (1280x800). One line per check; exit status 1 when any fails. Python 3, stdlib only.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from urllib.parse import quote

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
EVIL_STEP = "<img src=x onerror=window.__pwned=1>"
EVIL_JOB = "<script>alert('job')</script>"


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    @property
    def classes(self):
        return (self.attrs.get("class") or "").split()

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.walk()

    def find_all(self, tag=None, cls=None, **attrs):
        return [n for n in self.walk() if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)
                and all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def by_id(self, id_):
        found = self.find_all(id=id_)
        return found[0] if found else None


class Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, [(k, "" if v is None else v) for k, v in attrs], self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, [(k, "" if v is None else v) for k, v in attrs], self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


class Checker:
    def __init__(self, chromium, pages, out):
        self.chromium, self.pages, self.out = chromium, pages, out
        self.failed = 0
        self.count = 0

    def run_chromium(self, url, extra):
        prof = tempfile.mkdtemp(prefix="runlog-page-", dir=self.out)
        try:
            cmd = [self.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   "--user-data-dir=" + prof] + extra + [url]
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)
            return r.stdout.decode("utf-8", "replace")
        finally:
            shutil.rmtree(prof, ignore_errors=True)

    def dump(self, page, fragment="", probe=None, head_probe=None):
        """The DOM of PAGES_DIR/page#fragment after its load event. probe: a script appended to a copy of the page
        (before </body>); head_probe: one put first in its <head>."""
        path = os.path.join(self.pages, page)
        extra = ["--dump-dom"]
        if probe:
            with open(path, encoding="utf-8") as f:
                html = f.read()
            at = html.rfind("</body>")
            html = html[:at] + "<script data-check-probe>" + probe + "</script>\n" + html[at:]
            if head_probe:
                at = html.find("<head>") + len("<head>")
                html = html[:at] + "<script data-check-probe>" + head_probe + "</script>" + html[at:]
            path = os.path.join(self.out, "probe-" + page)
            with open(path, "w", encoding="utf-8") as f:
                f.write(html)
            extra.append("--virtual-time-budget=5000")
        url = "file://" + quote(os.path.abspath(path)) + ("#" + fragment if fragment else "")
        b = Builder()
        b.feed(self.run_chromium(url, extra))
        b.close()
        return b.root

    def check(self, name, ok, detail=""):
        self.count += 1
        if not ok:
            self.failed += 1
        print(("ok   " if ok else "FAIL ") + name + ("" if ok else "  -- " + detail))
        sys.stdout.flush()

    def eq(self, name, got, want):
        self.check(name, got == want, "got %r, want %r" % (got, want))


def rows(doc):
    return [int(r.attrs["data-index"]) for r in doc.find_all("tr", cls="ev")]


def dimmed(doc):
    return [int(r.attrs["data-index"]) for r in doc.find_all("tr", cls="ev") if "dim" in r.classes]


def row(doc, i):
    r = doc.find_all("tr", cls="ev", data_index=str(i))
    return r[0] if r else None


def cells(doc, i):
    r = row(doc, i)
    if r is None:
        return None
    return {c: "".join(td.text() for td in r.find_all("td", cls=c)) for c in ("time", "level", "step", "type", "msg")}


def count_text(doc):
    n = doc.by_id("match-count")
    return n.text().strip() if n else None


def bars(doc):
    return [(b.attrs.get("data-step"), "failed" in b.classes) for b in doc.find_all(cls="bar")]


def state(doc):
    n = doc.by_id("page-state")
    try:
        return json.loads(n.text())
    except (AttributeError, ValueError):
        return None


def rawlog(doc):
    n = doc.by_id("rawlog")
    return (n.text(), [(s.text(), s.classes) for s in n.find_all("span")]) if n else (None, [])


def title(doc):
    t = doc.find_all("title")
    return t[0].text() if t else None


def filter_checks(c):
    every = list(range(21))
    d = c.dump("ok.html")
    c.eq("ok: no filter shows all 21 rows in file order", rows(d), every)
    c.eq("ok: match count", count_text(d), "21 of 21 events")
    c.eq("ok: title", title(d), "etl_job · 1a2b3c4d · runlog")
    c.eq("ok: header job", (d.by_id("job") or Node("x", {}, None)).text(), "etl_job")
    c.eq("ok: header status", (d.by_id("status") or Node("x", {}, None)).text(), "SUCCESS")
    c.eq("ok: one bar per step, none failed", bars(d),
         [("extract_zones", False), ("extract_trips", False), ("join_stats", False)])
    c.eq("ok: row 4's cells", cells(d, 4), {"time": "16:00:00.010", "level": "INFO", "step": "extract_zones",
                                            "type": "", "msg": "Downloaded 265 taxi zones"})
    c.eq("ok: row 7's cells", cells(d, 7), {"time": "16:00:00.120", "level": "DEBUG", "step": "extract_zones",
                                            "type": "STEP_SUCCESS",
                                            "msg": 'Finished execution of step "extract_zones" in 119ms.'})
    c.eq("ok: page state is the defaults", state(d), {"step": "", "type": "", "level": "", "levels": None, "q": "",
                                                       "hide": True, "view": "events", "open": -1, "shown": "events"})
    tn = d.by_id("runlog-timings")
    try:
        tm = json.loads(tn.text())
        good = all(isinstance(tm.get(k), (int, float)) for k in ("parseMs", "firstScreenMs", "lastFilterMs")) \
            and tm["firstScreenMs"] > 0
    except (AttributeError, ValueError):
        tm, good = None, False
    c.check("ok: #runlog-timings has parseMs, firstScreenMs, lastFilterMs", good, "got %r" % (tm,))
    c.eq("ok: no level toggled off, no dim rows", dimmed(d), [])

    cases = [
        ("step=extract_zones", [3, 4, 5, 6, 7], "5 of 21 events"),
        ("step=extract_*", [3, 4, 5, 6, 7, 9, 10, 11, 12, 13], "10 of 21 events"),
        ("step=*_stats", [15, 16, 17, 18], "4 of 21 events"),
        ("type=STEP_SUCCESS", [7, 13, 18], "3 of 21 events"),
        ("level=INFO", [4, 5, 10, 16], "4 of 21 events"),
        ("level=WARNING", [5], "1 of 21 events"),
        ("levels=DEBUG,WARNING", [i for i in every if i not in (4, 10, 16)], "18 of 21 events"),
        ("levels=INFO", [4, 10, 16], "3 of 21 events"),
        ("q=zones", [3, 4, 5, 7, 16], "5 of 21 events"),
        ("q=ZONES", [3, 4, 5, 7, 16], "5 of 21 events"),
        ("q=downloaded+265", [4], "1 of 21 events"),
        ("q=" + quote("step:extract_* level:INFO trips"), [10], "1 of 21 events"),
        ("q=" + quote("type:STEP_START query:join"), [15], "1 of 21 events"),
        ("q=" + quote("step:join_stats"), [15, 16, 17, 18], "4 of 21 events"),
        ("q=" + quote("level:warning"), [5], "1 of 21 events"),
        ("step=extract_trips&type=STEP_OUTPUT", [12], "1 of 21 events"),
        ("q=nothing-matches-this", [], "0 of 21 events"),
    ]
    for frag, want, cnt in cases:
        d = c.dump("ok.html", frag)
        c.eq("ok #%s: rows" % frag, rows(d), want)
        c.eq("ok #%s: match count" % frag, count_text(d), cnt)
        c.eq("ok #%s: no dim rows when hiding" % frag, dimmed(d), [])
        if frag == "step=extract_zones":
            sel = [b.attrs.get("data-step") for b in d.find_all(cls="bar") if "selected" in b.classes]
            c.eq("ok #%s: its bar is selected" % frag, sel, ["extract_zones"])
            st = state(d) or {}
            c.eq("ok #%s: page state" % frag, (st.get("step"), st.get("view")), ("extract_zones", "events"))

    d = c.dump("ok.html", "step=extract_zones&hide=0")
    c.eq("ok #step=extract_zones&hide=0: every row shown", rows(d), every)
    c.eq("ok #step=extract_zones&hide=0: non-matches dimmed", dimmed(d), [i for i in every if i not in range(3, 8)])
    c.eq("ok #step=extract_zones&hide=0: match count", count_text(d), "5 of 21 events")
    d = c.dump("ok.html", "levels=INFO&q=trips&hide=0")
    c.eq("ok #levels=INFO&q=trips&hide=0: level toggles still hide", rows(d), [4, 10, 16])
    c.eq("ok #levels=INFO&q=trips&hide=0: dimmed", dimmed(d), [4])
    c.eq("ok #levels=INFO&q=trips&hide=0: match count", count_text(d), "2 of 21 events")

    d = c.dump("ok.html", "open=4")
    r = row(d, 4)
    c.check("ok #open=4: row 4 is open", r is not None and "open" in r.classes)
    det = d.find_all("tr", cls="detail")
    kv = {}
    if det:
        for tr in det[0].find_all("tr"):
            tds = tr.find_all("td")
            if len(tds) == 2:
                kv[tds[0].text()] = tds[1].text()
    c.eq("ok #open=4: its fields as key/value rows", kv, {"rows": "265", "source": "zones.csv"})
    if det:
        sib = [n for n in r.parent.children if isinstance(n, Node)]
        c.check("ok #open=4: the detail row follows row 4", sib.index(det[0]) == sib.index(r) + 1)

    for frag, text, span in [
        ("step=extract_zones&view=stdout", "downloading zones\nok 265 rows\n", ("ok", {"c2"})),
        ("step=extract_zones&view=stderr", "warning: 3 zones without borough\n", ("warning:", {"c3", "b"})),
        ("step=extract_trips&view=stdout", "".join("chunk %d parsed\n" % i for i in range(1, 10)), None),
        ("step=join_stats&view=stderr", "", None),
    ]:
        d = c.dump("ok.html", frag)
        got, spans = rawlog(d)
        c.eq("ok #%s: #rawlog text" % frag, got, text)
        if span:
            hit = [s for s in spans if s[0] == span[0]]
            c.check("ok #%s: %r in a span coloured %s" % (frag, span[0], sorted(span[1])),
                    len(hit) == 1 and span[1] <= set(hit[0][1]), "spans %r" % spans)
        key, stream = frag.split("&")[0][5:], frag.split("=")[-1]
        links = [a for a in d.find_all("a") if a.attrs.get("download")]
        names = sorted(a.attrs["download"] for a in links)
        c.eq("ok #%s: download links" % frag, names, [key + ".err", key + ".out"])
        c.check("ok #%s: download hrefs are blob:/data: URLs" % frag,
                links and all(a.attrs.get("href", "").startswith(("blob:", "data:")) for a in links),
                "%r" % [a.attrs.get("href") for a in links])
        tr = d.by_id("trunc")
        c.check("ok #%s: no truncation notice" % frag, tr is None or "hidden" in tr.attrs)
        c.eq("ok #%s: page state view" % frag, (state(d) or {}).get("shown"), stream)

    d = c.dump("ok.html", "view=stdout")
    c.eq("ok #view=stdout without a step: events shown", (state(d) or {}).get("shown"), "events")


def other_runs(c):
    d = c.dump("failed.html")
    c.eq("failed: all rows", rows(d), list(range(11)))
    c.eq("failed: bars, load_warehouse failed", bars(d), [("extract_zones", False), ("load_warehouse", True)])
    c.eq("failed: status", (d.by_id("status") or Node("x", {}, None)).text(), "FAILURE")
    d = c.dump("failed.html", "level=ERROR")
    c.eq("failed #level=ERROR: rows", rows(d), [8, 9, 10])
    c.eq("failed #level=ERROR: count", count_text(d), "3 of 11 events")
    d = c.dump("failed.html", "open=9&step=load_warehouse")
    c.eq("failed #open=9&step=load_warehouse: rows", rows(d), [7, 8, 9])
    det = d.find_all("tr", cls="detail")
    txt = det[0].text() if det else ""
    c.check("failed #open=9: the failure's error type and message",
            "std::runtime_error" in txt and "could not connect to the warehouse" in txt, repr(txt[:300]))
    d = c.dump("failed.html", "step=load_warehouse&view=stderr")
    c.eq("failed #step=load_warehouse&view=stderr: #rawlog", rawlog(d)[0], "error: connection refused\n")

    d = c.dump("crashed.html")
    c.eq("crashed: the torn last line is no row", rows(d), list(range(8)))
    c.eq("crashed: count", count_text(d), "8 of 8 events")
    c.eq("crashed: bars", bars(d), [("crunch", False), ("explode", False)])
    run = [b for b in d.find_all(cls="bar") if b.attrs.get("data-step") == "explode"]
    c.check("crashed: the unfinished step's bar is running", run and "running" in run[0].classes)
    c.eq("crashed: status", (d.by_id("status") or Node("x", {}, None)).text().lower().replace("?", ""), "crashed")
    d = c.dump("crashed.html", "step=explode&view=stdout")
    c.eq("crashed #step=explode&view=stdout: #rawlog", rawlog(d)[0], "about to")


def evil_checks(c):
    # first in <head>: alert, confirm and prompt record their calls; after the page: the record, at load and later
    head = ("window.__alerts=[];['alert','confirm','prompt'].forEach(function(f){"
            "window[f]=function(m){window.__alerts.push(String(m));};});")
    probe = ("function rec(){var p=document.getElementById('probe')||document.body.appendChild("
             "document.createElement('pre'));p.id='probe';p.hidden=true;p.textContent=JSON.stringify("
             "{pwned:window.__pwned===undefined?null:String(window.__pwned),alerts:window.__alerts});}"
             "addEventListener('load',function(){rec();setTimeout(rec,1500);});")
    step = quote(EVIL_STEP, safe="")
    for frag in ["", "open=3", "open=4", "step=" + step + "&view=stdout", "step=" + step + "&view=stderr&hide=0",
                 "q=" + quote("step:<img* pwned")]:
        d = c.dump("evil.html", frag, probe=probe, head_probe=head)
        name = "evil #" + frag if frag else "evil"
        pr = d.by_id("probe")
        try:
            p = json.loads(pr.text())
        except (AttributeError, ValueError):
            p = None
        c.eq(name + ": nothing injected ran (window.__pwned, alert)", p, {"pwned": None, "alerts": []})
        c.eq(name + ": title", title(d), EVIL_JOB + " · d00dfeed · runlog")
        c.eq(name + ": no <img> element", [n.attrs for n in d.find_all("img")], [])
        onattrs = [(n.tag, k) for n in d.walk() for k in n.attrs if k.lower().startswith("on")]
        c.eq(name + ": no on* attributes", onattrs, [])
        scripts = [n for n in d.find_all("script")
                   if n.attrs.get("id") != "runlog-data" and "data-check-probe" not in n.attrs]
        bad = [n.text()[:80] for n in scripts if "__pwned" in n.text() or "alert(" in n.text() or "src" in n.attrs]
        c.eq(name + ": no injected <script>", bad, [])
        data = d.find_all("script", id="runlog-data")
        c.check(name + ": the data element (if kept) is JSON",
                all(n.attrs.get("type") == "application/json" for n in data))
        js = [n.attrs.get("href") for n in d.find_all("a")
              if n.attrs.get("href", "").strip().lower().startswith("javascript")]
        c.eq(name + ": no javascript: links", js, [])
        if frag == "":
            c.eq(name + ": job shown as text", (d.by_id("job") or Node("x", {}, None)).text(), EVIL_JOB)
            tags = (d.by_id("tags") or Node("x", {}, None)).text()
            c.check(name + ": tag shown as text", "\"><img src=x onerror=alert('tag')>" in tags, repr(tags))
            c.eq(name + ": rows", rows(d), list(range(9)))
            c.eq(name + ": message 3 literal", (cells(d, 3) or {}).get("msg"),
                 "</script><script>window.__pwned=1</script>")
            c.eq(name + ": message 4 literal", (cells(d, 4) or {}).get("msg"), "javascript:window.__pwned=1")
            c.eq(name + ": message 5 literal", (cells(d, 5) or {}).get("msg"),
                 "<img src=x onerror=window.__pwned=1> & \u2028 line separator")
            c.eq(name + ": step cell literal", (cells(d, 3) or {}).get("step"), EVIL_STEP)
            c.eq(name + ": bar's data-step literal", bars(d), [(EVIL_STEP, False)])
        if frag == "open=3":
            det = d.find_all("tr", cls="detail")
            txt = det[0].text() if det else ""
            c.check(name + ": field shown as text", "\"><img src=x onerror=window.__pwned=1>" in txt, repr(txt[:300]))
        if frag == "open=4":
            det = d.find_all("tr", cls="detail")
            txt = det[0].text() if det else ""
            c.check(name + ": javascript: field shown as text", "javascript:window.__pwned=1" in txt, repr(txt[:300]))
        if "view=stdout" in frag:
            got, spans = rawlog(d)
            c.eq(name + ": #rawlog literal", got,
                 "<script>window.__pwned=1</script>\n<img src=x onerror=window.__pwned=1>\n")
            c.check(name + ": coloured line in a c1 span",
                    any(t == EVIL_STEP and "c1" in cl for t, cl in spans), "spans %r" % spans)
            names = sorted(a.attrs.get("download") for a in d.find_all("a") if a.attrs.get("download"))
            c.eq(name + ": download names", names, [EVIL_STEP + ".err", EVIL_STEP + ".out"])
        if "view=stderr" in frag:
            c.eq(name + ": #rawlog literal", rawlog(d)[0], "javascript:alert(1)\n")
        if frag.startswith("q="):
            c.eq(name + ": rows", rows(d), [2, 3, 4, 5, 7])


def interaction_checks(c):
    probe = r"""
addEventListener('load', function () {
  var out = {}, q = function (s) { return document.querySelector(s); };
  var cnt = function () { return q('#match-count').textContent; };
  var idx = function () {
    return Array.prototype.map.call(document.querySelectorAll('tr.ev'),
                                    function (r) { return +r.getAttribute('data-index'); });
  };
  q('.bar[data-step="extract_trips"]').dispatchEvent(new MouseEvent('click', {bubbles: true}));
  out.bar = [location.hash, cnt(), idx()];
  q('tr.ev[data-index="10"] td.msg').dispatchEvent(new MouseEvent('click', {bubbles: true}));
  out.row = [location.hash, document.querySelectorAll('tr.detail').length];
  q('.bar[data-step="extract_trips"]').dispatchEvent(new MouseEvent('click', {bubbles: true}));
  out.unbar = [location.hash, cnt()];
  q('button[data-level="DEBUG"]').dispatchEvent(new MouseEvent('click', {bubbles: true}));
  out.level = [location.hash, cnt()];
  var h = q('#hide'); h.checked = false; h.dispatchEvent(new Event('change', {bubbles: true}));
  out.hide = [location.hash, cnt(), idx().length, document.querySelectorAll('tr.ev.dim').length];
  location.hash = '#type=STEP_START';
  setTimeout(function () {
    out.hashchange = [cnt(), idx(), q('#f-type').value];
    var p = document.createElement('pre'); p.id = 'probe'; p.hidden = true; p.textContent = JSON.stringify(out);
    document.body.appendChild(p);
  }, 200);
});
"""
    d = c.dump("ok.html", "", probe=probe)
    pr = d.by_id("probe")
    try:
        p = json.loads(pr.text())
    except (AttributeError, ValueError):
        c.check("ok, clicking: probe ran", False, "no #probe in the dump")
        return
    c.eq("ok, clicking a bar: fragment, count, rows", p.get("bar"),
         ["#step=extract_trips", "5 of 21 events", [9, 10, 11, 12, 13]])
    c.eq("ok, clicking a row: fragment has open, a detail row", p.get("row"), ["#step=extract_trips&open=10", 1])
    c.eq("ok, clicking the bar again clears the step", p.get("unbar"), ["", "21 of 21 events"])
    c.eq("ok, toggling DEBUG off", p.get("level"), ["#levels=INFO%2CWARNING%2CERROR%2CCRITICAL", "4 of 21 events"])
    c.eq("ok, unticking hide non-matches", p.get("hide"),
         ["#levels=INFO%2CWARNING%2CERROR%2CCRITICAL&hide=0", "4 of 21 events", 4, 0])
    c.eq("ok, a new fragment (hashchange) applies", p.get("hashchange"), ["3 of 21 events", [3, 9, 15], "STEP_START"])


def screenshot(c):
    png = os.path.join(c.out, "ok.png")
    if os.path.exists(png):
        os.remove(png)
    url = "file://" + quote(os.path.abspath(os.path.join(c.pages, "ok.html"))) + "#open=4"
    c.run_chromium(url, ["--screenshot=" + png, "--window-size=1280,800", "--hide-scrollbars"])
    ok = os.path.exists(png) and open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    c.check("ok: screenshot " + png, ok, "no PNG written")


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    chromium, pages, out = sys.argv[1:]
    os.makedirs(out, exist_ok=True)
    for p in ("ok.html", "failed.html", "crashed.html", "evil.html"):
        if not os.path.exists(os.path.join(pages, p)):
            print("FAIL missing " + os.path.join(pages, p))
            return 1
    c = Checker(chromium, pages, out)
    try:
        filter_checks(c)
        other_runs(c)
        evil_checks(c)
        interaction_checks(c)
        screenshot(c)
    except subprocess.TimeoutExpired as e:
        c.check("chromium finished", False, str(e))
    print("%d checks, %d failed" % (c.count, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
