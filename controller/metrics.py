"""Prometheus metrics of this process (the lowest floor: anything may call these functions).

Two kinds of numbers:

* **Counters and histograms** that code increments as things happen: event ingest
  (:func:`count_event_batch`), schedule fires (:func:`count_schedule_fire`), ended jobs
  (:func:`count_job_finished`), HTTP requests (:func:`observe_request`).  They live in one
  private :class:`CollectorRegistry` per process (never prometheus-client's global one, so an
  embedding application's metrics are not mixed in) and only ever grow, as Prometheus wants.
* **Gauges of the current state** (jobs by status, running / pending jobs, object counts,
  instance capacity) are not kept in sync by callers: :func:`render` reads them from a
  :class:`Snapshot` taken at scrape time, so they can never drift from the database.

Names follow AWX's ``/api/v2/metrics/`` where AWX has the metric (``awx_status_total``,
``awx_running_jobs_total``, ``awx_instance_capacity``...); Turret's own are ``turret_*``.
Every function here is cheap and never raises into its caller.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client import multiprocess, values
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# AWX's job statuses as reported by awx_status_total (``new`` is left out, as AWX does)
JOB_STATUSES = ("pending", "waiting", "running", "successful", "failed", "error", "canceled")

# no ``*_created`` series: they double the page and AWX's scrapers do not expect them
disable_created_metrics()
_REGISTRY = CollectorRegistry(auto_describe=True)
_EVENTS: Counter
_EVENT_BATCHES: Counter
_SCHEDULE_FIRES: Counter
_JOBS_FINISHED: Counter
_REQUESTS: Histogram
_REQUEST_SERIES: dict[tuple[str, str, int], Any] = {}     # _REQUESTS' children by their labels


def _declare() -> None:
    """(Re)create the counters and histograms in a fresh ``_REGISTRY``."""
    global _REGISTRY, _EVENTS, _EVENT_BATCHES, _SCHEDULE_FIRES, _JOBS_FINISHED, _REQUESTS
    _REGISTRY = CollectorRegistry(auto_describe=True)
    _EVENTS = Counter("turret_events_ingested", "Job events stored by the event writer", registry=_REGISTRY)
    _EVENT_BATCHES = Counter("turret_event_batches", "Batches (transactions) the event writer committed",
                             registry=_REGISTRY)
    _SCHEDULE_FIRES = Counter("turret_schedule_fires", "Schedule occurrences fired", registry=_REGISTRY)
    _JOBS_FINISHED = Counter("turret_jobs_finished", "Unified jobs that ended, by kind and final status",
                             ["kind", "status"], registry=_REGISTRY)
    _REQUESTS = Histogram("turret_http_request_duration_seconds", "HTTP request durations",
                          ["method", "route", "status"], registry=_REGISTRY,
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
    _REQUEST_SERIES.clear()      # the children of the histogram just replaced


_declare()


def share_between_processes(folder: str) -> None:
    """From now on keep the counters in files under ``folder`` (emptied here), one per
    process, and render the sum of all: ``turret serve`` with several processes calls it once,
    before it forks and before anything was counted."""
    import shutil
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, mode=0o700)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder     # read by prometheus-client's file values
    values.ValueClass = values.MultiProcessValue()
    _declare()


# -- called where things happen ---------------------------------------------------------------
def count_event_batch(n: int) -> None:
    """One batch of ``n`` job events was committed by the event writer."""
    if n > 0:
        _EVENTS.inc(n)
        _EVENT_BATCHES.inc()


def count_schedule_fire() -> None:
    """A schedule occurrence fired (whether or not its launch succeeded)."""
    _SCHEDULE_FIRES.inc()


def count_job_finished(kind: str, status: str) -> None:
    """A unified job of resource ``kind`` (``job``, ``project_update``...) ended with ``status``."""
    _JOBS_FINISHED.labels(kind=kind, status=status).inc()


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """An HTTP request to URL rule ``route`` (the pattern, never the concrete path: label values
    must stay few) answered ``status`` after ``seconds``."""
    key = (method, route, status)
    child = _REQUEST_SERIES.get(key)
    if child is None:      # labels() costs twice the observation: each series is looked up once
        child = _REQUEST_SERIES[key] = _REQUESTS.labels(method=method, route=route, status=str(status))
    child.observe(seconds)


# -- read at scrape time ----------------------------------------------------------------------
@dataclass
class InstanceSnapshot:
    """One node as the capacity gauges show it."""
    hostname: str
    uuid: str
    node_type: str = "hybrid"
    capacity: int = 0
    consumed_capacity: int = 0
    cpu: float = 0
    memory: int = 0
    enabled: bool = True
    version: str = ""


@dataclass
class Snapshot:
    """The current state the gauges report, read from the store when ``/metrics/`` is scraped."""
    version: str = ""
    install_uuid: str = ""
    statuses: dict[str, int] = field(default_factory=dict)     # unified jobs by status
    running: int = 0
    pending: int = 0
    counts: dict[str, int] = field(default_factory=dict)       # AWX count name -> rows
    hosts_active: int = 0
    instances: list[InstanceSnapshot] = field(default_factory=list)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _state_families(snap: Snapshot) -> Iterator[Metric]:
    info = InfoMetricFamily("awx_system", "System information")
    info.add_metric([], {"tower_version": snap.version, "install_uuid": snap.install_uuid,
                         "license_type": "open"})
    yield info
    for key, doc in (("organization", "organizations"), ("user", "users"), ("team", "teams"),
                     ("inventory", "inventories"), ("project", "projects"), ("job_template", "job_templates"),
                     ("workflow_job_template", "workflow_job_templates"), ("schedule", "schedules")):
        yield _gauge(f"awx_{doc}_total", f"Number of {doc.replace('_', ' ')}", snap.counts.get(key, 0))
    hosts = GaugeMetricFamily("awx_hosts_total", "Number of hosts", labels=["type"])
    hosts.add_metric(["all"], snap.counts.get("host", 0))
    hosts.add_metric(["active"], snap.hosts_active)
    yield hosts
    status = GaugeMetricFamily("awx_status_total", "Unified jobs by status", labels=["status"])
    for name in JOB_STATUSES:
        status.add_metric([name], snap.statuses.get(name, 0))
    yield status
    yield _gauge("awx_running_jobs_total", "Number of running jobs on the system", snap.running)
    yield _gauge("awx_pending_jobs_total", "Number of pending jobs on the system", snap.pending)
    yield from _instance_families(snap.instances)


def _instance_families(instances: list[InstanceSnapshot]) -> Iterator[Metric]:
    labels = ["hostname", "instance_uuid", "node_type"]
    capacity = GaugeMetricFamily("awx_instance_capacity", "Capacity of each node", labels=labels)
    consumed = GaugeMetricFamily("awx_instance_consumed_capacity", "Consumed capacity of each node", labels=labels)
    remaining = GaugeMetricFamily("awx_instance_remaining_capacity", "Remaining capacity of each node",
                                  labels=labels)
    cpu = GaugeMetricFamily("awx_instance_cpu", "CPU cores on each node", labels=labels[:2])
    memory = GaugeMetricFamily("awx_instance_memory", "RAM (Kb) on each node", labels=labels[:2])
    info = InfoMetricFamily("awx_instance", "Info about each node", labels=labels)
    for node in instances:
        key = [node.hostname, node.uuid, node.node_type]
        capacity.add_metric(key, node.capacity)
        consumed.add_metric(key, node.consumed_capacity)
        remaining.add_metric(key, max(0, node.capacity - node.consumed_capacity))
        cpu.add_metric(key[:2], node.cpu)
        memory.add_metric(key[:2], node.memory)
        info.add_metric(key, {"enabled": str(node.enabled), "version": node.version})
    yield from (capacity, consumed, remaining, cpu, memory, info)


class _SnapshotCollector:
    """A one-shot collector: yields the gauges of one snapshot (prometheus-client's custom
    collector protocol)."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap

    def collect(self) -> Iterator[Metric]:
        return _state_families(self.snap)


def _counters() -> CollectorRegistry:
    """This process's counters and histograms; under ``turret serve`` with several processes
    (``PROMETHEUS_MULTIPROC_DIR`` set before prometheus-client loaded, so every process keeps
    them in a file there) those of every process summed: the event writer counts in the serving
    parent while any web worker answers the scrape."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return _REGISTRY
    shared = CollectorRegistry(auto_describe=True)
    multiprocess.MultiProcessCollector(shared, folder)
    return shared


def render(snap: Snapshot) -> str:
    """The Prometheus text exposition: the state gauges of ``snap``, then the counters and
    histograms (of every process of this controller)."""
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(_SnapshotCollector(snap))
    return generate_latest(gauges).decode() + generate_latest(_counters()).decode()


def render_json(text: str) -> dict:
    """The exposition ``text`` as AWX's ``?format=json`` shows it: one entry per family with
    ``help_text``, ``type`` and ``samples`` (``labels``, ``value``, and for histograms
    ``sample_type`` = bucket / sum / count)."""
    out: dict = {}
    for family in text_string_to_metric_families(text):
        samples = []
        for sample in family.samples:
            entry: dict = {"labels": sample.labels, "value": sample.value}
            if family.type == "histogram":
                for suffix in ("bucket", "sum", "count"):
                    if sample.name.endswith("_" + suffix):
                        entry["sample_type"] = suffix
            samples.append(entry)
        out[family.name] = {"help_text": family.documentation, "type": family.type, "samples": samples}
    return out
