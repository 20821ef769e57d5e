"""turret.controller.settings against a live controller: check mode writes nothing, a run sends
only what differs (text converted to the declared type), a second run changes nothing, an
unknown name or a refused value fails cleanly and stores nothing."""
from __future__ import annotations

import pytest


from .conftest import failed_cleanly

pytestmark = pytest.mark.slow


def _jobs(api) -> dict:
    return api.get("/api/v2/settings/jobs/").json()


def test_settings_module(play, api):
    several = {"AWX_TASK_ENV": {"HTTPS_PROXY": "http://proxy.invalid:3128"}, "DEFAULT_JOB_TIMEOUT": 600,
               "AD_HOC_COMMANDS": ["ping", "setup"]}
    p = play([
        {"turret.controller.settings": {"settings": several}, "check_mode": True, "diff": True},
        {"turret.controller.settings": {"settings": several}},
        {"turret.controller.settings": {"settings": several}},
        {"turret.controller.settings": {"name": "DEFAULT_JOB_TIMEOUT", "value": "600"}},
        {"turret.controller.settings": {"name": "PROJECT_UPDATE_VVV", "value": "yes"}},
        {"turret.controller.settings": {"name": "NO_SUCH_SETTING", "value": 1}},
        {"turret.controller.settings": {"name": "MAX_FORKS", "value": "lots"}},
    ])
    check, first, second, as_text, boolean, unknown, refused = p.results
    assert check["changed"] and check["diff"]["after"] == several
    assert check["diff"]["before"]["DEFAULT_JOB_TIMEOUT"] == 0 and "values" not in check
    assert first["changed"] and first["values"] == several
    assert first["old_values"]["AWX_TASK_ENV"] == {}
    assert not second["changed"] and second["new_values"] == {}
    assert not as_text["changed"]                     # "600" is the integer 600 already stored
    assert boolean["changed"] and boolean["values"] == {"PROJECT_UPDATE_VVV": True}
    failed_cleanly(unknown, "Unknown setting(s): NO_SUCH_SETTING")
    failed_cleanly(refused, "A valid integer is required")
    stored = _jobs(api)
    assert {k: stored[k] for k in several} == several
    assert stored["PROJECT_UPDATE_VVV"] is True and stored["MAX_FORKS"] == 200
