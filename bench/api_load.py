"""The API benchmark's load generator: keep-alive clients that drive a server for a while,
check every answer (status, ``count``, number of results; ids and order when strict) and
summarize latencies, throughput and the CPU each side spent.  The load phases connect with
:class:`getclient.GetClient` (raw-socket keep-alive ``GET``), which spends half the CPU of
``http.client`` per request: the client runs on the cores it measures."""
from __future__ import annotations

import statistics
import time

import orjson  # the load generator shares the server's 2 cores: its own parsing should cost little

import harness as h
from getclient import GetClient
from harness import Server, pct


# -- checking answers -------------------------------------------------------------------------
def check(kind: str, expected: dict | None, status: int, payload: bytes, strict: bool = False) -> str | None:
    """None when the response is right; else a short reason."""
    if status != 200:
        return f"{kind}: HTTP {status}"
    if expected is None:
        return None
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return f"{kind}: bad JSON"
    if body.get("count") != expected["count"]:
        return f"{kind}: count {body.get('count')} != {expected['count']}"
    results = body.get("results") or []
    if len(results) != len(expected["ids"]):
        return f"{kind}: {len(results)} results != {len(expected['ids'])}"
    if strict and [r["id"] for r in results] != expected["ids"]:
        return f"{kind}: wrong rows/order"
    return None


# -- statistics -------------------------------------------------------------------------------
def summary(lat: list[float], seconds: float | None = None, errors: int = 0) -> dict:
    out = {"n": len(lat), "errors": errors,
           "p50_ms": pct(lat, 50) * 1000, "p90_ms": pct(lat, 90) * 1000, "p99_ms": pct(lat, 99) * 1000,
           "mean_ms": (statistics.fmean(lat) * 1000) if lat else float("nan")}
    if seconds:
        out["seconds"] = seconds
        out["req_per_s"] = len(lat) / seconds
    return out


# -- load phases ------------------------------------------------------------------------------
def sequential(port: int, plan: list[tuple[str, str, str, dict | None]], seconds: float) -> dict:
    """Concurrency 1: round-robin over the plan (kind, auth, path, expected) for ``seconds``."""
    clients: dict[str, GetClient] = {}
    lat: dict[str, list[float]] = {kind: [] for kind, *_ in plan}
    errors: dict[str, int] = {kind: 0 for kind, *_ in plan}
    first_error: list[str] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for kind, auth, path, expected in plan:
            c = clients.get(auth) or clients.setdefault(auth, GetClient(port, auth))
            status, payload, elapsed = c.request("GET", path)
            why = check(kind, expected, status, payload)
            if why:
                errors[kind] += 1
                first_error[:1] = first_error[:1] or [why]
            else:
                lat[kind].append(elapsed)
    for c in clients.values():
        c.close()
    out = {kind: summary(lat[kind], errors=errors[kind]) for kind in lat}
    if first_error:
        out["first_error"] = first_error[0]
    return out


def throughput(port: int, mix: list[tuple[str, str, str, dict | None]], seconds: float,
               concurrency: int, server: Server | None = None) -> dict:
    """``concurrency`` threads, each with its own keep-alive connection, cycling over ``mix``."""
    lat: list[list[tuple[str, float]]] = [[] for _ in range(concurrency)]
    errs = [0] * concurrency
    first_error: list[str] = []

    def worker(n: int, go) -> None:
        clients = {auth: GetClient(port, auth) for _, auth, _, _ in mix}
        i = n
        stop = go()
        while time.perf_counter() < stop:
            kind, auth, path, expected = mix[i % len(mix)]
            i += 1
            status, payload, elapsed = clients[auth].request("GET", path)
            why = check(kind, expected, status, payload)
            if why:
                errs[n] += 1
                first_error[:1] = first_error[:1] or [why]
            else:
                lat[n].append((kind, elapsed))
        for c in clients.values():
            c.close()

    phase = h.drive(worker, concurrency, seconds, server)
    every = [e for per in lat for _, e in per]
    out = summary(every, phase["seconds"], sum(errs))
    out["concurrency"] = concurrency
    done = max(1, len(every) + sum(errs))
    out["server_cpu_ms_per_req"] = phase["server_cpu_s"] / done * 1000
    out["client_cpu_ms_per_req"] = phase["client_cpu_s"] / done * 1000
    by_kind: dict[str, list[float]] = {}
    for per in lat:
        for kind, e in per:
            by_kind.setdefault(kind, []).append(e)
    out["by_kind"] = {k: summary(v) for k, v in by_kind.items()}
    if first_error:
        out["first_error"] = first_error[0]
    return out
