"""A host's job history (AWX's host "Jobs" tab): the host's recent job results, newest first,
from the ``job_host_summaries`` sub-list the API serves at ``/hosts/N/job_host_summaries/``."""
from __future__ import annotations

from ..services import crud, relations
from .base import ctx, registry

HISTORY_SIZE = 20


def host_history(host_row: dict) -> list[dict]:
    """The last :data:`HISTORY_SIZE` job summaries of a host the user may read (each with its
    job's id, name and status in ``summary_fields.job``), visible jobs only."""
    res = registry("host")
    scope = relations.scope(ctx(), res, host_row, res.relation("job_host_summaries"))
    return crud.list_page(ctx(), registry("job_host_summary"), [("order_by", "-id"), ("page_size", str(HISTORY_SIZE))],
                          "/", scope=scope)["results"]
