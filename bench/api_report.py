"""The API benchmark's text report and its goal check, from the results dict ``main`` builds."""
from __future__ import annotations


def fmt_table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(res: dict) -> str:
    out = []
    m = res["machine"]
    out.append(f"Turret API benchmark - {res['date']} - {m['cpus']} CPUs, Python {m['python']}, "
               f"SQLite {m['sqlite']}, tree {res['tree'] or '?'}")
    out.append(f"load average at start {res['loadavg_start']}, at end {res['loadavg_end']}; "
               f"{res['rows']} teams seeded through crud.create in {res['seed']['create_seconds']:.2f}s "
               f"({res['seed']['create_per_row_ms']:.3f} ms/row)")
    out.append("")
    st = res["startup"]
    def own(r: dict) -> str:
        return "?" if r.get("self_reported_s") is None else f"{r['self_reported_s']:.2f}"

    rows = [["start-to-ready", "seconds", "server's own 'ready in'", "PSS at ready MB",
             "PSS idle MB (1 s after its jobs)"]]
    cold = st["empty_cold_bytecode"]
    rows.append(["empty, no .pyc yet", f"{cold['ready_s']:.3f}", own(cold),
                 f"{cold['rss_ready_mb']:.1f}", f"{cold['rss_idle_mb']:.1f}"])
    rows.append(["empty data dir", f"{st['empty']['ready_s']:.3f}", own(st["empty"]),
                 f"{st['empty']['rss_ready_mb']:.1f}", f"{st['empty']['rss_idle_mb']:.1f}"])
    for i, r in enumerate(st["migrated"]):
        rows.append([f"migrated #{i + 1}", f"{r['ready_s']:.3f}", own(r), f"{r['rss_ready_mb']:.1f}",
                     f"{r['rss_idle_mb']:.1f}"])
    rows.append(["migrated median", f"{st['migrated_median_s']:.3f}", "", "",
                 f"{st['migrated_rss_idle_median_mb']:.1f}"])
    out.append(fmt_table(rows))
    out.append("")
    rows = [["concurrency 1", "n", "p50 ms", "p90 ms", "p99 ms", "p50 / ping p50", "errors"]]
    for who, seq in res["sequential"].items():
        floor = seq["ping"]["p50_ms"]
        for kind, s in seq.items():
            if kind == "first_error":
                continue
            rows.append([f"{who}: {kind}", str(s["n"]), f"{s['p50_ms']:.2f}", f"{s['p90_ms']:.2f}",
                         f"{s['p99_ms']:.2f}", f"{s['p50_ms'] / floor:.1f}x", str(s["errors"])])
    out.append(fmt_table(rows))
    out.append("")
    ping_rps = res["throughput"]["ping"]["req_per_s"]
    rows = [["throughput", "conc", "req/s", "p50 ms", "p90 ms", "p99 ms", "errors", "vs ping",
             "srv CPU ms/req", "client CPU ms/req"]]
    for name, t in res["throughput"].items():
        rows.append([name, str(t["concurrency"]), f"{t['req_per_s']:.0f}", f"{t['p50_ms']:.2f}",
                     f"{t['p90_ms']:.2f}", f"{t['p99_ms']:.2f}", str(t["errors"]),
                     f"{t['req_per_s'] / ping_rps:.3f}", f"{t['server_cpu_ms_per_req']:.2f}",
                     f"{t['client_cpu_ms_per_req']:.2f}"])
        if len(t.get("by_kind", {})) > 1:
            for kind, k in t["by_kind"].items():
                rows.append([f"  {kind}", "", f"({k['n']})", f"{k['p50_ms']:.2f}", f"{k['p90_ms']:.2f}",
                             f"{k['p99_ms']:.2f}", "", "", "", ""])
    out.append(fmt_table(rows))
    if res.get("floors"):
        out.append("")
        rows = [["reference servers (no Turret)", "start-to-ready s", "PSS at ready MB", "c1 p50 ms",
                 f"c{res['concurrency']} req/s", "srv CPU ms/req", "client CPU ms/req"]]
        for name, f in res["floors"].items():
            rows.append([name, f"{f['ready_s']:.3f}", f"{f['rss_mb']:.1f}", f"{f['c1_p50_ms']:.2f}",
                         f"{f['req_per_s']:.0f}",
                         f"{f['server_cpu_ms_per_req']:.2f}", f"{f['client_cpu_ms_per_req']:.2f}"])
        out.append(fmt_table(rows))
    out.append("")
    out.append(f"Server PSS after the load phases: {res['rss_after_load_mb']:.1f} MB "
               f"(peak VmHWM {res['rss_peak_mb']:.1f} MB)")
    out.append("")
    out.append("Goals:")
    for g in res["goals"]:
        out.append(f"  [{'met' if g['met'] else 'NOT met'}] {g['goal']}: {g['value']}")
    return "\n".join(out)


def goals(res: dict) -> list[dict]:
    seq = res["sequential"]["admin"]
    kinds = ("filter", "search", "page")
    worst = max(kinds, key=lambda k: seq[k]["p50_ms"])
    rps = res["throughput"]["list mix (admin)"]["req_per_s"]
    cpu = res["throughput"]["list mix (admin)"]["server_cpu_ms_per_req"]
    cold = res["throughput"].get("list mix (admin), nothing kept", {}).get("req_per_s")
    st = res["startup"]
    rss = max(st["migrated_rss_idle_median_mb"], st["empty"]["rss_idle_mb"])
    flask = res.get("floors", {}).get("waitress + Flask")
    member = res["sequential"]["member"]
    member_ratio = {k: member[k]["p50_ms"] / seq[k]["p50_ms"] for k in kinds}

    def vs_flask(value: float, key: str, unit: str) -> str:
        if not flask:
            return ""
        ref = f"{flask[key]:.0f}" if flask[key] >= 100 else f"{flask[key]:.2f}"
        return f" ({value / flask[key]:.2f}x the one-route Flask app's {ref} {unit} in this run)"

    return [
        {"goal": "list p50 <= 10 ms (slowest of the 3 list queries, admin, concurrency 1)",
         "value": f"{seq[worst]['p50_ms']:.2f} ms ({worst}); "
                  + ", ".join(f"{k} {seq[k]['p50_ms']:.2f}" for k in kinds),
         "met": seq[worst]["p50_ms"] <= 10},
        {"goal": f"list >= 1000 req/s (admin mix, concurrency {res['concurrency']})",
         "value": f"{rps:.0f} req/s" + vs_flask(rps, "req_per_s", "req/s"), "met": rps >= 1000},
        {"goal": "admin list mix >= 0.5x the one-route Flask app's req/s (same server, same run)",
         "value": (f"{rps / flask['req_per_s']:.2f}x" + (f" (nothing kept: {cold / flask['req_per_s']:.2f}x)"
                                                        if cold else "")) if flask else "no reference run (--no-floor)",
         "met": bool(flask) and rps / flask["req_per_s"] >= 0.5},
        {"goal": "server CPU <= 1.8 ms per admin list request (list mix)",
         "value": f"{cpu:.2f} ms" + vs_flask(cpu, "server_cpu_ms_per_req", "ms"), "met": cpu <= 1.8},
        {"goal": "start-to-ready <= 1 s (migrated data dir, median)",
         "value": f"{st['migrated_median_s']:.3f} s" + vs_flask(st["migrated_median_s"], "ready_s", "s"),
         "met": st["migrated_median_s"] <= 1},
        {"goal": "start-to-ready <= 1 s (empty data dir)",
         "value": f"{st['empty']['ready_s']:.3f} s", "met": st["empty"]["ready_s"] <= 1},
        {"goal": "idle memory (PSS) <= 100 MB (after start, no job running)", "value": f"{rss:.1f} MB",
         "met": rss <= 100},
        {"goal": "member p50 / admin p50 <= 1.5x (each of filter, search, page; concurrency 1)",
         "value": ", ".join(f"{k} {member_ratio[k]:.2f}x" for k in kinds),
         "met": max(member_ratio.values()) <= 1.5},
    ]
