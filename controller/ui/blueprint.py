"""The web UI's blueprint, alone in its module so the view modules can register on it without
importing the package that imports them."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ui", "controller.ui", url_prefix="/ui", template_folder="templates", static_folder="static",
               static_url_path="/static")
