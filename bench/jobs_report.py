"""The report of ``bench/jobs_bench.py``: the goals of the jobs performance issue checked
against a run's figures, and the text tables printed on stdout (the JSON holds the same figures).
"""
from __future__ import annotations


# -- report ------------------------------------------------------------------------------------
def goals(res: dict) -> list[dict]:
    e2e, disp, acc, ing, resu, big = (res.get(k) for k in ("e2e", "dispatch", "accept", "ingest", "results", "big"))
    out = []
    if e2e:
        out.append({"key": "e2e",
                    "goal": "end-to-end Turret/bare runner <= 1.05 (20-task playbook, median of per-round ratios)",
                    "value": f"{e2e['median_ratio']:.3f} (client-observed {e2e['median_ratio_observed']:.3f}, "
                             f"CPU {e2e['median_cpu_ratio']:.3f})",
                    "met": e2e["median_ratio"] <= 1.05})
    if disp:
        st = disp["started"]
        out.append({"key": "dispatch", "goal": "dispatch latency POST -> started p50 <= 50 ms",
                    "value": f"{st['p50_ms']:.1f} ms (n={st['n']})", "met": st["p50_ms"] <= 50})
        out.append({"key": "dispatch", "goal": "dispatch latency POST -> started p99 <= 200 ms",
                    "value": f"{st['p99_ms']:.1f} ms (max of {st['n']})", "met": st["p99_ms"] <= 200})
    if acc:
        rps = acc["launch"]["req_per_s"]
        out.append({"key": "accept", "goal": "launches accepted >= 200 /s (JOB_WORKERS=0)", "value": f"{rps:.0f} /s",
                    "met": rps >= 200})
    if ing:
        eps = ing["handler_path"]["events_per_s"]
        out.append({"key": "ingest", "goal": "event ingest >= 20,000 ev/s (scrub+event_row+EventWriter, real store)",
                    "value": f"{eps:,.0f} ev/s", "met": eps >= 20000})
    if resu:
        out.append({"key": "results", "goal": f"recording adds <= 5 % to a {resu['results']:,}-result run (wall)",
                    "value": f"ratio {resu['median_ratio']:.3f} (CPU {resu['median_cpu_ratio']:.3f}; recording's own "
                             f"CPU {resu['median_added_cpu_share'] * 100:.1f} % of the run)",
                    "met": resu["median_ratio"] <= 1.05})
    if big:
        st = big["launch"]["started"]
        out.append({"key": "big", "goal": f"{big['hosts']:,}-host inventory: POST -> runner start <= 1 s (p50)",
                    "value": f"{st['p50_ms']:.0f} ms (max {st['max_ms']:.0f})", "met": st["p50_ms"] <= 1000})
    return out


def fmt_table(rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(res: dict) -> str:
    out = [f"Turret jobs benchmark  {res['date']}  cpus={res['machine']['cpus']}  python {res['machine']['python']}"
           f"  ansible-core {res['machine'].get('ansible_core')}  runner {res['machine'].get('ansible_runner')}",
           f"load average start {res['loadavg_start']}  end {res.get('loadavg_end', '')}  mode {res['mode']}", ""]
    e2e = res.get("e2e")
    if e2e:
        rows = [["1. twenty.yml, 1 host", "order", "bare s", "Turret s", "ratio", "observed", "CPU ratio",
                 "events b/T"]]
        for r in e2e["rounds"]:
            rows.append([f"round {r['round']}", r["order"], f"{r['bare']['wall_s']:.2f}",
                         f"{r['turret']['wall_s']:.2f}",
                         f"{r['ratio']:.3f}", f"{r['ratio_observed']:.3f}", f"{r['cpu_ratio']:.3f}",
                         f"{r['bare']['events']}/{r['turret']['events']}"])
        rows.append(["median", "", f"{e2e['bare_median_s']:.2f}", f"{e2e['turret_median_s']:.2f}",
                     f"{e2e['median_ratio']:.3f}", f"{e2e['median_ratio_observed']:.3f}",
                     f"{e2e['median_cpu_ratio']:.3f}", ""])
        out += [fmt_table(rows), ""]
        rows = [["1. timeline (median s)", "bare", "Turret"]]
        tl = e2e["timeline"]
        pairs = [("start/POST -> first event", tl["bare"]["start -> first event"],
                  tl["turret"]["POST -> started"] + tl["turret"]["started -> first event"]),
                 ("  of which POST -> started", None, tl["turret"]["POST -> started"]),
                 ("first -> last event (ansible runs)", tl["bare"]["first -> last event"],
                  tl["turret"]["first -> last event"]),
                 ("last event -> run() returned / finished", tl["bare"]["last event -> run() returned"],
                  tl["turret"]["last event -> finished"]),
                 ("finished -> events stored", None, tl["turret"]["finished -> events stored"])]
        for label, b, t in pairs:
            rows.append([label, "" if b is None else f"{b:.3f}", f"{t:.3f}"])
        out += [fmt_table(rows), ""]
    for key, title in (("dispatch", "2. dispatch, trivial.yml"), ("big", "5. 10k-host launch")):
        d = res.get(key)
        if not d:
            continue
        d = d if key == "dispatch" else d["launch"]
        rows = [[f"{title} (n={d['n']})", "p50 ms", "p99 ms", "min ms", "max ms"]]
        for k, label in (("post", "POST response"), ("started", "POST -> started (on_start)"),
                         ("spawn", "POST -> ansible-playbook fork"), ("first_event", "POST -> first event"),
                         ("done", "POST -> events stored")):
            s = d[k]
            rows.append([label, f"{s['p50_ms']:.1f}", f"{s['p99_ms']:.1f}", f"{s['min_ms']:.1f}", f"{s['max_ms']:.1f}"])
        out += [fmt_table(rows), ""]
    big = res.get("big")
    if big:
        b = big["breakdown"]
        rows = [[f"5. in-process, {b['hosts']:,} hosts", "median ms", "min ms"]]
        for k in ("script_data", "yaml_inventory", "json_write", "prepare", "impact+blocked"):
            rows.append([k, f"{b[k]['median_ms']:.1f}", f"{b[k]['min_ms']:.1f}"])
        rows.append(["hosts.json size", f"{b['hosts_json_bytes'] / 1e6:.2f} MB", ""])
        out += [fmt_table(rows), f"seeding {big['hosts']:,} hosts through crud.create: {big['seed_s']:.1f} s", ""]
        if b.get("profile"):
            out += ["cProfile of prepare + render + write (top by cumulative):", b["profile"], ""]
    acc = res.get("accept")
    if acc:
        rows = [[f"3. TURRET_JOB_WORKERS=0, {acc['clients']} clients", "req/s", "p50 ms", "p99 ms", "errors",
                 "srv CPU ms/req"]]
        for k, label in (("launch", "POST /launch/"), ("ping", "GET /ping/ (floor)")):
            s = acc[k]
            rows.append([label, f"{s['req_per_s']:.0f}", f"{s['p50_ms']:.1f}", f"{s['p99_ms']:.1f}", str(s["errors"]),
                         f"{s['server_cpu_ms_per_req']:.2f}"])
        out += [fmt_table(rows), f"jobs created during the launch phase: {acc['launch']['jobs_created']}; "
                f"server CPU per launch allows {acc['launch']['server_cpu_bound_req_per_s']:.0f} /s on one core "
                f"(the server is one Python process: the GIL makes one core its ceiling)", ""]
        if acc.get("profile"):
            p = acc["profile"]
            out += [f"in-process (Flask test client, 1 thread, no HTTP): {p['in_process_req_per_s']:.0f} launches/s, "
                    f"{p['ms_per_launch']:.2f} ms each; cProfile:", p["profile"], ""]
    ing = res.get("ingest")
    if ing:
        rows = [[f"4a. {ing['events']:,} events, {ing['event_json_bytes_mean']:.0f} B JSON each", "ev/s",
                 "ev per CPU-s", "producer us/ev", "stored"]]
        for k in ("handler_path", "writer_only", "handler_path_with_secret"):
            s = ing[k]
            rows.append([s["label"], f"{s['events_per_s']:,.0f}", f"{s['events_per_cpu_s']:,.0f}",
                         f"{s['producer_us_per_event']:.1f}", str(s["stored"])])
        out += [fmt_table(rows), ""]
        if ing.get("profile"):
            out += ["cProfile of the event path (handler + writer batches, 10,000 events):", ing["profile"], ""]
    resu = res.get("results")
    if resu:
        rows = [[f"4b. results.yml, {resu['results']:,} results", "order", "no-op s", "recording s", "ratio",
                 "CPU ratio", "own CPU s (no-op/rec)", "ansible CPU s (no-op/rec)", "added CPU", "events", "stored"]]
        for r in resu["pairs"]:
            b, t = r["bare"], r["turret"]
            rows.append(["pair", r["order"], f"{b['wall_s']:.2f}", f"{t['wall_s']:.2f}",
                         f"{r['ratio']:.3f}", f"{r['cpu_ratio']:.3f}", f"{b['own_cpu_s']:.2f}/{t['own_cpu_s']:.2f}",
                         f"{b['children_cpu_s']:.1f}/{t['children_cpu_s']:.1f}", f"{r['added_cpu_share'] * 100:.1f} %",
                         str(t["events"]), str(t["stored"])])
        t = resu["pairs"][0]["turret"]
        out += [fmt_table(rows), "added CPU = extra CPU of the recording process (handler + writer thread) "
                "as a share of the whole no-op run (ansible included)",
                f"EventWriter transactions: {t['transactions']:,} for {t['stored']:,} events "
                f"({t['events_per_transaction']:.1f} events per transaction)", ""]
    out.append("Goals:")
    for g in res["goals"]:
        out.append(f"  [{'met' if g['met'] else 'NOT met'}] {g['goal']}: {g['value']}")
    return "\n".join(out)
