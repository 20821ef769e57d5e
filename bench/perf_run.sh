#!/usr/bin/env bash
# One recorded run of every figure of the performance goals (bench/README.md, "Performance goals"):
# the API list mix and member/admin lists against a one-route Flask app (api_bench.py), the web
# servers side by side (serve_bench.py), event ingest and the end-of-job barrier (jobs_bench.py).
# Writes each benchmark's JSON and text into OUT (default .cache/perf-run-<time>/) and prints the
# load average before and after.  Takes about 12 minutes on a 2-core machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT="${1:-.cache/perf-run-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
PY=.venv/bin/python
echo "load before: $(cat /proc/loadavg)" | tee "$OUT/load.txt"
$PY bench/api_bench.py --rows 10000 --seconds 8 --starts 3 --json "$OUT/api.json" | tee "$OUT/api.txt"
$PY bench/serve_bench.py --rounds 3 --seconds 6 --launches 10 --json "$OUT/serve.json" | tee "$OUT/serve.txt"
$PY bench/jobs_bench.py --only e2e,ingest,dispatch --rounds 5 --json "$OUT/jobs.json" | tee "$OUT/jobs.txt"
echo "load after: $(cat /proc/loadavg)" | tee -a "$OUT/load.txt"
echo "results in $OUT"
