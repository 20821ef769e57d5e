"""The web UI: server-rendered Jinja2 pages over the same services the API uses.

Pages read through ``crud.list_page`` / ``crud.get_row`` + the serializer (so every page sees
exactly what the API would show the same user, ``user_capabilities`` included) and write through
``crud.create`` / ``crud.update``, ``launch_job``, ``control.cancel``.  Authentication is the API's
session (``awx_sessionid`` cookie set by ``POST /api/login/``); writes carry the ``csrftoken``
cookie's value as ``csrfmiddlewaretoken`` and are checked by the web layer before any view runs.
Live job output is the API's Server-Sent Events stream, read by a small script.
"""
from __future__ import annotations

from . import access_tab, base, generic, jobs, notifications, resources, webhooks, workflows  # noqa: F401  (registers the views)
from . import projects, schedules, surveys, templates_pages  # noqa: F401  (h19b's pages)
from . import deleting  # noqa: F401  (the delete confirmation)
from .blueprint import bp

__all__ = ["bp"]
