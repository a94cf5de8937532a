#!/usr/bin/env python3
"""Turns run.sh's results (JSON lines) into the results section of docs/benchmarks.md.

Usage: report.py RESULTS.jsonl docs/benchmarks.md
       report.py --soak SOAK.jsonl docs/benchmarks.md    (soak.sh's samples)
       report.py --desktop BENCH.json docs/benchmarks.md [MARK] (desktop/tools/bench.sh's figures)

Only the text between the `<!-- results:begin -->` and `<!-- results:end -->` markers (or
`<!-- soak:begin -->` and `<!-- soak:end -->`, or the `desktop:` pair) is replaced; the rest of the document is left as
it is.
"""

import datetime
import json
import sys

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
SOAK_BEGIN, SOAK_END = "<!-- soak:begin -->", "<!-- soak:end -->"


def desktop(bench_path, doc_path, mark="desktop"):
    r = json.loads(open(bench_path).read())
    out = []
    w = out.append
    mins = round(r['secs'] / 60)
    span = f"{r['secs']:.0f} s" if mins < 2 else f"{mins} minutes"
    w(f"Measured {datetime.date.today().isoformat()} by `desktop/tools/bench.sh`: {r['hosts']} daemons "
      f"streaming status, one host's table open with {r['rows']:,} rows, {span} "
      "measured after every host connected"
      + (", every host's history already full (3,600 samples, taken 100 ms apart before the app "
         "opened; the stream to the app at 1 s)" if r.get("prefill_history") else "")
      + "; a 1280×820 window under Xvfb, drawn by Mesa's "
      "software renderer (llvmpipe), whose rasterising threads count in the app's CPU.")
    w("")
    w("| measure | result |")
    w("| --- | --- |")
    w(f"| the app's CPU, every thread (UI, network, software rasteriser) | {r['cpu_pct']:.2f} % of a core |")
    w(f"| frames drawn | {r['frames_per_s']:.2f} a second ({r['frames']:,} in all) |")
    w(f"| the app's own work per frame (`logic` + `ui`) | p50 {r['app_p50_ms']:.2f} ms, p99 {r['app_p99_ms']:.2f} ms, "
      f"max {r.get('app_max_ms', float('nan')):.2f} ms |")
    if "logic_p99_ms" in r:
        w(f"| of which applying the network's events (`logic`) | p50 {r['logic_p50_ms']:.2f} ms, p99 {r['logic_p99_ms']:.2f} ms |")
    w(f"| the whole frame as eframe times it (with tessellation and software painting) | "
      f"p50 {r['frame_p50_ms']:.2f} ms, p99 {r['frame_p99_ms']:.2f} ms |")
    samples = r.get("rss_samples", [])
    w(f"| resident memory | {r['rss_start_bytes'] / 2**20:.1f} MiB when all connected → "
      f"{r['rss_end_bytes'] / 2**20:.1f} MiB at the end |")
    if len(samples) > 3:
        # Every sample of a short run; every fifth of a long one, and its last.
        shown = samples if len(samples) <= 13 else samples[::5]
        if shown[-1] is not samples[-1]:
            shown = shown + samples[-1:]
        w("")
        w("Resident memory over the run (MiB):")
        w("")
        w("| minute | " + " | ".join(str(t // 60) for t, _ in shown) + " |")
        w("| --- | " + " | ".join("---:" for _ in shown) + " |")
        w("| resident | " + " | ".join(f"{b / 2**20:.1f}" for _, b in shown) + " |")
    splice(doc_path, f"<!-- {mark}:begin -->", f"<!-- {mark}:end -->", out)


def splice(doc_path, begin, end, lines):
    doc = open(doc_path).read()
    head, _, rest = doc.partition(begin)
    _, _, tail = rest.partition(end)
    open(doc_path, "w").write(head + begin + "\n" + "\n".join(lines) + "\n" + end + tail)


def soak(results_path, doc_path):
    rows = [json.loads(line) for line in open(results_path) if line.strip()]
    samples = [r for r in rows if "t" in r]
    driver = next((r["driver"] for r in rows if "driver" in r), {})
    first, last = samples[0], samples[-1]
    out = []
    w = out.append
    w(f"Measured {datetime.date.today().isoformat()} by `server/benches/soak.sh`: "
      f"{last['t'] / 60:.0f} minutes, {first.get('procs', 0):,} processes on the machine, "
      "10 sessions (8 idle, LIST and STATUS once a second), 5 new logins a minute.")
    w("")
    w("| minute | daemon resident | daemon CPU (last 30 s) | processes on the machine |")
    w("| ---: | ---: | ---: | ---: |")
    marks = [0, 1, 5, 10, 20, 30, 40, 50, 60, 90, 120]
    for m in marks:
        near = min(samples, key=lambda r: abs(r["t"] - m * 60))
        if abs(near["t"] - m * 60) <= 30 and near["t"] <= last["t"]:
            procs = near.get("procs")
            w(f"| {m} | {near['rss_kib'] / 1024:.1f} MiB | {f(near['cpu_pct'], 2)} % | {f'{procs:,}' if procs else '–'} |")
    settled = [r for r in samples if r["t"] >= min(600, last["t"] // 2)]
    rss = [r["rss_kib"] / 1024 for r in settled]
    cpu = [r["cpu_pct"] for r in samples if r.get("cpu_pct") is not None]
    w("")
    w(f"After minute {settled[0]['t'] // 60}: resident between {min(rss):.1f} and {max(rss):.1f} MiB "
      f"({len(rss)} samples); peak over the whole soak {max(r['rss_kib'] for r in samples) / 1024:.1f} MiB; "
      f"CPU {sum(cpu) / max(len(cpu), 1):.2f} % of a core on average.")
    for name in ("LIST", "STATUS"):
        d = driver.get(name)
        if d:
            w(f"{name} over the soak: {d['n']:,} requests, p50 {d['p50_ms']:.2f} ms, p99 {d['p99_ms']:.2f} ms.")
    splice(doc_path, SOAK_BEGIN, SOAK_END, out)


def f(v, digits=1):
    if v is None:
        return "–"
    if isinstance(v, float) and v != v:  # NaN
        return "–"
    return f"{v:,.{digits}f}"


def main(results_path, doc_path):
    steps = [json.loads(line) for line in open(results_path) if line.strip()]
    by = {}
    for s in steps:
        by.setdefault(s["step"], []).append(s)
    machine = by["machine"][0]
    out = []
    w = out.append
    w(f"Measured {datetime.date.today().isoformat()} by `server/benches/run.sh` on "
      f"{machine['cores']} cores, Linux {machine['kernel']}, "
      f"{machine['base_procs']} processes before the extra ones; medians unless marked.")
    w("")

    w("### Scan: one pass over every process")
    w("")
    w("| extra processes | processes | floor | vigiad (/proc) | sysinfo | sysinfo with threads (before) | `ps -eo pid,user,pcpu,rss,comm` | vigiad ÷ floor | per process (vigiad) |")
    w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for s in by.get("scan", []):
        sc = s["scan"]
        n = sc["processes"]
        fl, pf = sc.get("floor_ms"), sc.get("procfs_ms")
        w(f"| {s['count']:,} | {n:,} | {f(fl, 2)} ms | {f(pf, 2)} ms | {f(sc.get('sysinfo_ms'), 2)} ms "
          f"| {f(sc.get('sysinfo_threads_ms'), 2)} ms | {f(s['ps_ms'], 2)} ms "
          f"| {f(pf / fl if fl and pf else None, 2)}× | {f(pf * 1000 / n if pf else None, 1)} µs |")
    w("")

    cg = [s for s in by.get("callgrind", []) if not s.get("missing")]
    if cg:
        w(f"Instructions executed in user space for one scan (callgrind, {cg[0]['count']:,} extra "
          "processes; the kernel's side of /proc is not counted):")
        w("")
        w("| source | instructions a scan |")
        w("| --- | ---: |")
        for s in cg:
            n = s["per_scan"]
            w(f"| {s['source']} | {'valgrind failed' if n is None else f'{n:,}'} |")
        w("")

    w("### LIST, STATUS and the cost of watching")
    w("")
    w("| extra processes | rows | LIST p50 | LIST p90 | LIST p99 | bytes a row (text / JSON) | STATUS p50 | daemon CPU, LIST at 20/s | daemon CPU, LIST at 1/s |")
    w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    watch = {s["count"]: s["r"] for s in by.get("watch", [])}
    for s in by.get("list", []):
        r = s["r"]
        lst, st = r.get("list", {}), r.get("status", {})
        rows = r.get("list_rows", 0) / max(lst.get("n", 1), 1)
        wr = watch.get(s["count"], {})
        w(f"| {s['count']:,} | {rows:,.0f} | {f(lst.get('p50_ms'), 2)} ms | {f(lst.get('p90_ms'), 2)} ms "
          f"| {f(lst.get('p99_ms'), 2)} ms | {f(r.get('row_bytes_text'))} / {f(r.get('row_bytes_json'))} "
          f"| {f(st.get('p50_ms'), 2)} ms | {f(r.get('rate_cpu_pct'), 2)} % | {f(wr.get('rate_cpu_pct'), 2)} % |")
    w("")

    w("### Nobody watching, START/STOP, memory, sessions, fan-out")
    w("")
    w("| measure | result |")
    w("| --- | --- |")
    for s in by.get("idle", []):
        w(f"| daemon CPU with nobody watching, {s['secs']} s, {s['count']:,} extra processes | "
          f"{f(s['cpu_pct'], 3)} % of a core (resident {s['rss_kib'] / 1024:.1f} MiB) |")
        sc = next((x["scan"] for x in by.get("scan", []) if x["count"] == s["count"]), {})
        if sc.get("sysinfo_threads_ms"):
            w(f"| before: a sysinfo scan with threads every second, same count | "
              f"{sc['sysinfo_threads_ms'] / 10:.2f} % of a core (its scan time ÷ 1 s) |")
    for s in by.get("startstop", []):
        r = s["r"]
        w(f"| START `sleep 300` round trip, {r['start']['n']} tries | p50 {f(r['start']['p50_ms'], 2)} ms, "
          f"p99 {f(r['start']['p99_ms'], 2)} ms |")
        w(f"| STOP right after its START (SIGTERM) | p50 {f(r['stop']['p50_ms'], 2)} ms, "
          f"p99 {f(r['stop']['p99_ms'], 2)} ms; {r['stop_killed']} of {r['stop']['n']} needed SIGKILL |")
    for s in by.get("ten", []):
        r = s["r"]
        w(f"| daemon resident memory, 10 sessions, after the steps above | "
          f"{r.get('sessions_rss_bytes', 0) / 2**20:.1f} MiB |")
    for s in by.get("logins_shipped", []):
        r = s["r"]
        w(f"| 200 more logins (4 at a time), as shipped | resident "
          f"{r.get('rss_start_bytes', 0) / 2**20:.1f} → {r.get('sessions_rss_bytes', 0) / 2**20:.1f} MiB |")
    for s in by.get("sessions", []):
        r = s["r"]
        ll = r.get("login_list", {})
        w(f"| {s['n']:,} idle sessions | {f(r.get('session_kib'))} KiB a session, "
          f"resident {r.get('sessions_rss_bytes', 0) / 2**20:.1f} MiB, idle CPU "
          f"{f(r.get('sessions_idle_cpu_pct'), 2)} %; a new login + LIST beside them: "
          f"p50 {f(ll.get('p50_ms'))} ms, p99 {f(ll.get('p99_ms'))} ms |")
    for s in by.get("fanout", []):
        r = s["r"]
        w(f"| {r.get('subscribers', 0):,} sessions subscribed to the 1 s status stream | daemon "
          f"{f(r.get('subscribers_cpu_pct'), 2)} % of a core, {f(r.get('events_per_s'), 0)} events/s delivered |")
    w("")

    w("### Beside Glances")
    w("")
    g = by.get("glances", [])
    if not g:
        w("Glances is not installed on this machine: skipped (`pip install 'glances[web]'`).")
        w("")
    else:
        lists = {s["count"]: s["r"] for s in by.get("list", [])}
        w("Glances 4 web server (`glances -w --disable-webui`), `GET /api/4/processlist` with curl, "
          "against the daemon's LIST on a warm session at the same process count. A *fresh* "
          "Glances list is one that finds its figures older than its 2 s refresh time (any "
          "client polling every 2 s or slower gets those); a *cached* one is an immediate repeat. "
          "Glances' CPU while polled every 2 s is set against the daemon's while LISTed every 1 s.")
        w("")
        w("| extra processes | Glances fresh list (its CPU) | Glances cached | vigiad LIST p50 | fresh ÷ vigiad | bytes a process: Glances / vigiad text / JSON | Glances ÷ vigiad JSON | CPU: Glances polled 2 s / vigiad LIST 1 s | resident: Glances |")
        w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        watch = {s["count"]: s["r"] for s in by.get("watch", [])}
        for s in g:
            r = lists.get(s["count"], {})
            p50 = r.get("list", {}).get("p50_ms")
            per = s["bytes"] / max(s["rows"], 1)
            js = r.get("row_bytes_json")
            wcpu = watch.get(s["count"], {}).get("rate_cpu_pct")
            w(f"| {s['count']:,} | {f(s['fresh_ms'])} ms ({s['fresh_cpu_ms']:,} ms) | {f(s['cached_ms'], 2)} ms "
              f"| {f(p50, 2)} ms | {f(s['fresh_ms'] / p50 if p50 else None, 0)}× "
              f"| {per:,.0f} / {f(r.get('row_bytes_text'))} / {f(js)} | {f(per / js if js else None, 1)}× "
              f"| {f(s['poll_cpu_pct'], 1)} % / {f(wcpu, 2)} % | {s['rss_kib'] / 1024:.0f} MiB |")
        w("")
    splice(doc_path, BEGIN, END, out)


if __name__ == "__main__":
    if sys.argv[1] == "--soak":
        soak(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "--desktop":
        desktop(*sys.argv[2:5])
    else:
        main(sys.argv[1], sys.argv[2])
