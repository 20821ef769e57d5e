"""The API benchmark's ``--profile`` part (not part of any figure): cProfile of the list
requests in-process through Flask's test client, each SQL statement timed, and one server
start under ``-X importtime``."""
from __future__ import annotations

import os
import sys
import time
from typing import Callable

import harness as h
from harness import Server, basic


# -- profiling --------------------------------------------------------------------------------
def import_profile(data_dir: str, work: str, start_server: Callable[..., Server], top: int = 20) -> str:
    """One extra server start (through ``start_server(data_dir, log, cmd=...)``) under
    ``-X importtime``: the slowest imports (cumulative)."""
    log = os.path.join(work, "importtime.log")
    srv = start_server(data_dir, log, cmd=[sys.executable, "-X", "importtime",
                                           *h.serve_command(data_dir, "{port}")[1:]])
    ready = srv.ready_seconds
    srv.stop()
    rows = []
    with open(log, errors="replace") as fh:
        for line in fh:
            # "import time:   self [us] | cumulative | imported package"
            if line.startswith("import time:") and "self [us]" not in line and line.count("|") == 2:
                own, cum, name = line[len("import time:"):].split("|")
                rows.append((int(cum), int(own), name.rstrip()))
    total = sum(r[1] for r in rows)
    out = [f"\n=== server start under -X importtime: ready in {ready:.2f}s (importtime adds overhead); "
           f"{len(rows)} modules, {total / 1e6:.2f}s importing in total ===",
           "cumulative ms  self ms  module"]
    for cum, own, name in sorted(rows, reverse=True)[:top]:
        out.append(f"{cum / 1000:13.1f}  {own / 1000:7.1f}  {name}")
    return "\n".join(out) + "\n"


def profile(data_dir: str, queries: dict, repeat: int, top: int, logins: dict[str, tuple[str, str]]) -> str:
    """cProfile of the list requests, then the slowest SQL statements of one request per kind;
    ``logins`` is ``{"admin": (username, password), "member": (...)}``."""
    import cProfile
    import io
    import pstats

    from controller import create_app, open_state
    from controller.config import Settings
    from controller.store import Store

    state = open_state(Settings({"DATA_DIR": data_dir}, environ={}))
    app = create_app(state=state)
    client = app.test_client()
    r = client.post("/api/v2/tokens/", json={"description": "profile"},
                    headers={"Authorization": basic(*logins["admin"])})
    admin = {"Authorization": f"Bearer {r.get_json()['token']}"}
    r = client.post("/api/v2/tokens/", json={"description": "profile", "scope": "write"},
                    headers={"Authorization": basic(*logins["member"])})
    member = {"Authorization": f"Bearer {r.get_json()['token']}"}
    out = io.StringIO()
    for who, headers in (("admin", admin), ("member", member)):
        for q in queries.values():  # warm
            assert client.get(q["path"], headers=headers).status_code == 200
        prof = cProfile.Profile()
        n = max(1, repeat if who == "admin" else repeat // 5)
        t0 = time.perf_counter()
        prof.enable()
        for _ in range(n):
            for q in queries.values():
                client.get(q["path"], headers=headers)
        prof.disable()
        wall = time.perf_counter() - t0
        n *= len(queries)
        out.write(f"\n=== cProfile, {who}: {n} list requests in-process, {wall / n * 1000:.2f} ms/request "
                  f"(profiler overhead included) ===\n")
        for order in ("tottime", "cumulative"):
            s = io.StringIO()
            pstats.Stats(prof, stream=s).strip_dirs().sort_stats(order).print_stats(top)
            text = s.getvalue()
            out.write(f"--- by {order} ---\n" + text[text.find("   ncalls"):])

    # Time every statement the store runs (wrapping the class in this process only).
    log: list[tuple[float, str, list]] = []
    originals = {name: getattr(Store, name) for name in ("query", "one", "scalar", "dicts", "tuples")}

    def timed(fn):
        def wrapper(self, sql, params=()):
            t = time.perf_counter()
            try:
                return fn(self, sql, params)
            finally:
                log.append((time.perf_counter() - t, sql, list(params)))
        return wrapper

    for name, fn in originals.items():
        setattr(Store, name, timed(fn))
    try:
        out.write("\n=== SQL per request (median of 5 requests; 3 slowest statements) ===\n")
        for who, headers in (("admin", admin), ("member", member)):
            for kind, q in queries.items():
                runs = []
                for _ in range(5):
                    log.clear()
                    t0 = time.perf_counter()
                    client.get(q["path"], headers=headers)
                    runs.append((time.perf_counter() - t0, sum(x[0] for x in log), list(log)))
                runs.sort(key=lambda r: r[0])
                total, sql_total, stmts = runs[len(runs) // 2]
                out.write(f"\n{who} {kind}: {total * 1000:.1f} ms total, {len(stmts)} statements, "
                          f"SQL {sql_total * 1000:.1f} ms, other {(total - sql_total) * 1000:.1f} ms\n")
                for dt, sql, params in sorted(stmts, key=lambda x: -x[0])[:3]:
                    short = sql if len(sql) <= 400 else sql[:400] + " ..."
                    out.write(f"  {dt * 1000:7.2f} ms  {short}  {params[:4]}\n")
    finally:
        for name, fn in originals.items():
            setattr(Store, name, fn)
    state.store.close()
    return out.getvalue()
