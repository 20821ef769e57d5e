"""SQL of workflow approvals: the approval rows, their votes, the workflow they belong to and
the compare-and-set that concludes them (a decision, a timeout or a quorum reached lands once).

Callers that must check and write together (a vote, then the conclusion it may cause) open
``store.transaction()`` around these calls: ``BEGIN IMMEDIATE`` serializes them across threads
and processes, so two voters can never both conclude an approval.
"""
from __future__ import annotations


from . import now_iso

APPROVALS = "workflow_approvals"
VOTES = "workflow_approval_votes"
# columns of a vote: the approval voted on and the voter
VOTE_APPROVAL, VOTE_USER = "approval", "user"


def workflow_template_of(store, approval_id: int) -> int | None:
    """The workflow job template of the workflow job whose node spawned the approval (None when
    no node did, or the template is gone)."""
    return store.scalar(
        "SELECT wj.workflow_job_template FROM workflow_job_nodes n "
        "JOIN workflow_jobs wj ON wj.id = n.workflow_job WHERE n.job = ? LIMIT 1", (approval_id,))


def has_voted(store, approval_id: int, user_id: int) -> bool:
    return store.exists(VOTES, f'"{VOTE_APPROVAL}" = ? AND "{VOTE_USER}" = ?', [approval_id, user_id])


def add_vote(store, approval_id: int, user_id: int, decision: str, comment: str) -> int:
    """Store one vote ("approve" | "deny"); returns its id."""
    now = now_iso()
    return store.insert(VOTES, {VOTE_APPROVAL: approval_id, VOTE_USER: user_id, "decision": decision,
                                "comment": comment, "created": now, "modified": now,
                                "created_by": user_id, "modified_by": user_id})


def approvals_count(store, approval_id: int) -> int:
    """How many distinct users voted to approve."""
    return store.scalar(f'SELECT count(DISTINCT "{VOTE_USER}") FROM "{VOTES}" '
                        f'WHERE "{VOTE_APPROVAL}" = ? AND decision = \'approve\'', (approval_id,))


def conclude(store, pk: int, status: str, finished: str, elapsed: float, explanation: str = "",
             timed_out: bool = False) -> bool:
    """pending -> ``status`` (successful | failed), only if still pending.  Returns whether this
    call concluded it."""
    return store.update_where(
        APPROVALS, {"status": status, "failed": status != "successful", "finished": finished,
                    "elapsed": elapsed, "timed_out": timed_out, "job_explanation": explanation,
                    "modified": finished, "event_processing_finished": True},
        "id = ? AND status = 'pending'", [pk]) == 1


def expired(store, now_z: str) -> list[dict]:
    """Pending approvals with a timeout whose ``expires`` (ISO ``Z`` text, so it sorts as time)
    is at or before ``now_z``."""
    return [dict(r) for r in store.query(
        f'SELECT * FROM "{APPROVALS}" WHERE status = \'pending\' AND timeout > 0 '
        "AND expires IS NOT NULL AND expires <= ? ORDER BY expires, id", (now_z,))]


def deciders(store, approval_ids: list[int]) -> dict[int, dict]:
    """For each approval, its last vote joined with the voter ({id, username, first_name,
    last_name}): the vote that concluded it, once concluded (no vote is taken afterwards)."""
    if not approval_ids:
        return {}
    marks = ",".join("?" * len(approval_ids))
    rows = store.query(
        f'SELECT v."{VOTE_APPROVAL}" AS approval, u.id, u.username, u.first_name, u.last_name '
        f'FROM "{VOTES}" v JOIN users u ON u.id = v."{VOTE_USER}" '
        f'WHERE v."{VOTE_APPROVAL}" IN ({marks}) ORDER BY v.id', list(approval_ids))
    out: dict[int, dict] = {}
    for r in rows:
        out[r["approval"]] = {"id": r["id"], "username": r["username"], "first_name": r["first_name"],
                              "last_name": r["last_name"]}
    return out
