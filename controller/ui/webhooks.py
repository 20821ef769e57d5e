"""The webhook page of a job template, a workflow job template or a project: where a service
delivers (AWX's receiver URLs and Turret's generic one), the service and filters set on the object,
and its webhook key — shown only when an admin of the object asks for it, and rotated with one
button.  The key is read and rotated by the same service functions as ``GET``/``POST
…/webhook_key/`` (``controller.webhooks.fields``), so permissions and the activity stream are the
API's; the page never holds the key unless it was asked to show it.
"""
from __future__ import annotations

from flask import redirect, request, url_for

from ..webhooks import fields as webhook_keys
from .base import caps, ctx, detail, page_view, registry, render
from .blueprint import bp

# UI path segment -> (resource, API collection, whether the generic receiver serves it)
WEBHOOK_OWNERS = {
    "templates": ("job_template", "job_templates", True),
    "workflow_templates": ("workflow_job_template", "workflow_job_templates", True),
    "projects": ("project", "projects", False),
}
SERVICES = (("github", "GitHub"), ("gitlab", "GitLab"), ("bitbucket_dc", "Bitbucket Data Center"))


def back_url(kind: str, pk: int) -> str:
    """The object's own page (a job template has none besides its launch page, which not every
    reader may open: the templates list)."""
    if kind == "templates":
        return url_for("ui.templates")
    return url_for("ui.workflow_template" if kind == "workflow_templates" else "ui.project", pk=pk)


def external_base() -> str:
    """The address services must post to: ``URL_BASE`` when set (a proxy's name), else the address
    this browser used to reach the controller."""
    base = str(ctx().settings.URL_BASE or "")
    return (base or request.host_url).rstrip("/")


def receiver_urls(kind: str, pk: int) -> list[dict]:
    """The receivers of one object: one per service (``current`` marks the object's service) and,
    for templates, the generic one."""
    _name, collection, generic = WEBHOOK_OWNERS[kind]
    prefix = f"{external_base()}/api/v2/{collection}/{pk}"
    urls = [{"service": service, "label": label, "url": f"{prefix}/{service}/"} for service, label in SERVICES]
    if generic:
        urls.append({"service": "generic", "label": "Generic (X-Turret-Signature: sha256=… or X-Turret-Token)",
                     "url": f"{prefix}/webhook/"})
    return urls


@bp.route("/<any(templates, workflow_templates, projects):kind>/<int:pk>/webhook", methods=["GET"])
@page_view
def webhook_page(kind: str, pk: int):
    """The receivers and filters to anyone who may read the object; the key to its admins, on
    ``?reveal=1`` only (the page's "Show key" button), and never cached."""
    name = WEBHOOK_OWNERS[kind][0]
    row, obj = detail(registry(name), pk)
    can_manage = bool(caps(obj).get("edit"))
    key = None
    if can_manage and request.args.get("reveal") == "1":
        key = webhook_keys.reveal_key(ctx(), name, row)["webhook_key"]
    resp = render("webhook.html", obj=obj, kind=kind, urls=receiver_urls(kind, pk), can_manage=can_manage,
                  key=key, back=back_url(kind, pk))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/<any(templates, workflow_templates, projects):kind>/<int:pk>/webhook/rotate", methods=["POST"])
@page_view
def webhook_rotate(kind: str, pk: int):
    """A new generated key (``POST …/webhook_key/``), then the page showing it: the one moment an
    admin needs to copy it into the service."""
    name = WEBHOOK_OWNERS[kind][0]
    row, _obj = detail(registry(name), pk)
    webhook_keys.rotate_key(ctx(), name, row, {})
    return redirect(url_for("ui.webhook_page", kind=kind, pk=pk, reveal=1, rotated=1) + "#webhook-key")
