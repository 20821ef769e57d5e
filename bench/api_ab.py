"""Side by side: the admin list mix of ``api_bench.py`` served by this tree and by an earlier
commit, in rounds that alternate between the two servers.

Why: on a shared machine the load moves within minutes, so two figures from runs minutes apart
differ by as much as a change to the list path does (bench/README.md).  Here both servers run
at once, each with its own copy of the same seeded data dir, and every round measures each of
them once, in alternating order; the medians of the rounds are compared.

1. checks the commit out into a temporary git worktree (removed at the end);
2. seeds one data dir as ``api_bench.py`` does (with this tree's code: the earlier commit must
   read the same schema) and copies it for each server;
3. starts ``python -m controller serve`` twice: this tree's, and the worktree's (its package
   first on ``PYTHONPATH``, the working directory left off ``sys.path``);
4. warms each up, then runs ``--rounds`` rounds of ``--seconds`` of the mix at
   ``--concurrency``, every response checked, and prints req/s and server CPU per request.

    python bench/api_ab.py --base b87efaf --rounds 8 --seconds 6
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import api_bench as ab  # noqa: E402
import harness as h  # noqa: E402
from api_load import throughput  # noqa: E402

REPO = BENCH.parent


def _worktree(commit: str, path: Path) -> None:
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(path), commit], cwd=REPO, check=True)


def _drop_worktree(path: Path) -> None:
    subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=REPO, capture_output=True)
    subprocess.run(["git", "worktree", "prune"], cwd=REPO, capture_output=True)


def _mix(server: h.Server, queries: dict) -> list[tuple[str, str, str, dict]]:
    auth = h.bearer(server.port, "admin", ab.ADMIN_PASSWORD)
    return [(kind, auth, q["path"], q) for kind, q in queries.items()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="the earlier commit (anything git rev-parse takes)")
    ap.add_argument("--rows", type=int, default=10000, help="teams to seed (default 10000)")
    ap.add_argument("--rounds", type=int, default=8, help="rounds, each measuring both servers (default 8)")
    ap.add_argument("--seconds", type=float, default=6.0, help="seconds of the mix per server per round")
    ap.add_argument("--concurrency", type=int, default=8, help="client connections (default 8)")
    ap.add_argument("--json", metavar="PATH", help="write the rounds as JSON here")
    args = ap.parse_args(argv)
    base = subprocess.run(["git", "rev-parse", "--short", args.base], cwd=REPO, check=True,
                          capture_output=True, text=True).stdout.strip()
    with h.scratch("turret-ab-") as (work, servers):
        tree = work / "base"
        _worktree(base, tree)
        try:
            ab.SERVER_ENV.update({"PYTHONDONTWRITEBYTECODE": None, "PYTHONPYCACHEPREFIX": str(work / "pycache")})
            h.progress(f"seeding {args.rows} teams ...")
            seeded = ab.seed(str(work / "seeded"), args.rows)
            queries = ab.build_queries(seeded["teams"], args.rows)
            variants = {base: {"PYTHONSAFEPATH": "1", "PYTHONPATH": str(tree)}, "this tree": {}}
            mixes = {}
            for name, env in variants.items():
                data = work / f"data-{len(mixes)}"
                shutil.copytree(work / "seeded", data)
                server = ab.start_server(str(data), str(work / f"server-{len(mixes)}.log"), env=env)
                servers.append(server)
                mixes[name] = (server, _mix(server, queries))
                throughput(server.port, mixes[name][1], 2, args.concurrency, server)      # warm-up
            rounds: dict[str, list[tuple[float, float]]] = {name: [] for name in mixes}
            load = [h.loadavg()]
            for r in range(args.rounds):
                for name in (list(mixes) if r % 2 == 0 else list(mixes)[::-1]):
                    server, mix = mixes[name]
                    out = throughput(server.port, mix, args.seconds, args.concurrency, server)
                    if out["errors"]:
                        raise SystemExit(f"{name}: {out['errors']} bad answers: {out.get('first_error')}")
                    rounds[name].append((out["req_per_s"], out["server_cpu_ms_per_req"]))
                h.progress(f"round {r + 1}: " + ", ".join(f"{n} {v[-1][0]:.0f} req/s" for n, v in rounds.items()))
            load.append(h.loadavg())
        finally:
            _drop_worktree(tree)
    medians = {n: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for n, v in rounds.items()}
    print(f"admin list mix, {args.rounds} alternating rounds of {args.seconds:g} s at concurrency "
          f"{args.concurrency}, {args.rows} teams; load {load[0]} -> {load[1]}")
    for name, (rps, cpu) in medians.items():
        print(f"  {name:>10}: median {rps:7.0f} req/s, {cpu:.3f} ms server CPU a request; "
              f"rounds {[round(x[0]) for x in rounds[name]]}")
    (b_rps, b_cpu), (t_rps, t_cpu) = medians[base], medians["this tree"]
    print(f"  this tree / {base}: {t_rps / b_rps:.2f}x req/s, {t_cpu / b_cpu:.2f}x server CPU a request")
    if args.json:
        Path(args.json).write_text(json.dumps({"base": base, "rows": args.rows, "load": load, "rounds": rounds,
                                               "tree": h.git_describe()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
