"""Accessibility and robustness of every UI page.

In-process (Flask test client, no browser): every GET page of the ``ui`` blueprint is found in
the app's URL map (so a page added later is audited without touching this file), its ``<int:pk>``
filled with an object of that kind, and rendered for the admin and for a team member who holds a
few roles.  Each page must not 500, must have ``<html lang>``, a ``<title>`` ending in
``| Turret``, one non-empty ``<h1>``, a label for every input, text for every button and link,
unique ids, ``aria-describedby`` targets that exist and no positive ``tabindex`` (the keyboard
follows the page's order).  Every "new" form posted empty shows its
errors beside the fields (``aria-describedby`` → ``.field-error``).

In Chromium: the dashboard, job and approval pages have no horizontal scroll at a phone's 390 px;
text has a contrast of at least 4.5:1 (3:1 when large) against its background; the first Tab
reaches "Skip to content" and focus is drawn visibly.
"""
from __future__ import annotations

import base64
import json
import re

import pytest

from .a11y import CONTRAST_JS, Audit, audit
from .conftest import screenshot
from .helpers import demo_app, ok, one, uniq, wait_job

PASSWORD = "a11y-admin-pw"
MEMBER, MEMBER_PW = "a11y-member", "a11y-member-pw-1"
# /ui/<segment>/<pk>: the API list that segment's objects come from
API_OF = {"templates": "job_templates", "workflow_templates": "workflow_job_templates",
          "approvals": "workflow_approvals"}
# what a /ui/<plural>/... placeholder is filled with (contract-19's URL names, plus older pages)
UI_PLURALS = ("organizations", "users", "teams", "projects", "templates", "inventories", "hosts", "groups",
              "inventory_sources", "credentials", "credential_types", "schedules", "tokens", "settings",
              "workflow_templates", "notification_templates", "jobs", "workflow_jobs")
# endpoints that answer JSON or an HTML fragment for scripts, not a page; the catch-all 404
NOT_PAGES = re.compile(r"(_state|\.static|_preview|_prompts|_stream|\.not_found)$")


# -- fixtures: a demo controller with one object of every kind -----------------------------
@pytest.fixture(scope="module")
def app(tmp_path_factory):
    yield from demo_app(tmp_path_factory, PASSWORD)


class Reply:
    """A test-client response shaped like ``requests``' (``json()`` a method), for helpers.ok."""

    def __init__(self, resp) -> None:
        self.status_code, self.text, self._resp = resp.status_code, resp.text, resp

    def json(self):
        return self._resp.get_json()


class Api:
    """The admin's API calls, in-process with Basic auth."""

    def __init__(self, app) -> None:
        self.app = app
        self.header = {"Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()}

    def get(self, path: str) -> Reply:
        return Reply(self.app.test_client().get(path, headers=self.header))

    def post(self, path: str, body=None, method: str = "POST") -> Reply:
        return Reply(self.app.test_client().open(path, method=method, json=body, headers=self.header))


def seed(api: Api) -> None:
    """Objects of every kind a page shows: schedules, tokens, a custom credential type, a team
    whose member holds roles, a job, a workflow with a pending approval, an inventory source."""
    jt = one(api, "/api/v2/job_templates/?name=Demo+Job+Template")
    inv = one(api, "/api/v2/inventories/?name=Demo+Inventory")
    org = one(api, "/api/v2/organizations/?name=Default")
    project = one(api, "/api/v2/projects/?name=Demo+Project")
    ok(api.post(f"/api/v2/job_templates/{jt['id']}/schedules/",
                {"name": "nightly", "rrule": "DTSTART:20300101T020000Z RRULE:FREQ=DAILY;INTERVAL=1"}))
    ok(api.post("/api/v2/tokens/", {"description": "a11y", "scope": "read"}))
    ok(api.post("/api/v2/credential_types/", {"name": "a11y type", "kind": "cloud", "inputs": {
        "fields": [{"id": "token", "label": "Token", "type": "string", "secret": True}]}, "injectors": {}}))
    ok(api.post("/api/v2/groups/", {"name": "a11y-group", "inventory": inv["id"]}))
    ok(api.post("/api/v2/inventory_sources/", {"name": "a11y-source", "inventory": inv["id"], "source": "scm",
                                                "source_project": project["id"], "source_path": "inventory"}),
       (200, 201, 400))
    ok(api.post("/api/v2/labels/", {"name": "a11y", "organization": org["id"]}))
    team = ok(api.post("/api/v2/teams/", {"name": "a11y-team", "organization": org["id"]}))
    user = ok(api.post("/api/v2/users/", {"username": MEMBER, "password": MEMBER_PW}))
    ok(api.post(f"/api/v2/teams/{team['id']}/users/", {"id": user["id"]}))
    for role in (jt["summary_fields"]["object_roles"]["execute_role"],
                 inv["summary_fields"]["object_roles"]["read_role"]):
        ok(api.post(f"/api/v2/teams/{team['id']}/roles/", {"id": role["id"]}))
    ok(api.post(f"/api/v2/job_templates/{jt['id']}/launch/", {}))
    wfjt = ok(api.post("/api/v2/workflow_job_templates/", {"name": "a11y-flow", "organization": org["id"]}))
    node = ok(api.post(f"/api/v2/workflow_job_templates/{wfjt['id']}/workflow_nodes/", {}))
    ok(api.post(f"/api/v2/workflow_job_template_nodes/{node['id']}/create_approval_template/",
                {"name": "a11y-gate", "timeout": 0}))
    ok(api.post(f"/api/v2/workflow_job_templates/{wfjt['id']}/launch/", {}))
    nt = {"name": "a11y-notify", "organization": org["id"], "notification_type": "webhook",
          "notification_configuration": {"url": "http://127.0.0.1:9/hook", "http_method": "POST", "headers": {}}}
    ok(api.post("/api/v2/notification_templates/", nt))


@pytest.fixture(scope="module")
def api(app):
    client = Api(app)
    seed(client)
    return client


def log_in(app, username: str, password: str):
    client = app.test_client()
    page = client.get("/ui/login")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    resp = client.post("/api/login/", data={"username": username, "password": password, "next": "/ui/",
                                            "csrfmiddlewaretoken": token})
    assert resp.status_code == 302, resp.text
    return client


def first_id(api: Api, segment: str) -> int | None:
    body = api.get(f"/api/v2/{API_OF.get(segment, segment)}/?order_by=id&page_size=1").json() or {}
    results = body.get("results") or []
    return results[0].get("id") if results else None     # settings' list has no ids


def page_paths(app, api: Api) -> tuple[list[str], list[str]]:
    """(paths of every GET page with its placeholders filled, rules that could not be filled)."""
    paths, unfilled = [], []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("ui.") or "GET" not in rule.methods or NOT_PAGES.search(rule.endpoint):
            continue
        variants = [""]
        for segment in rule.rule.strip("/").split("/"):
            choice = re.fullmatch(r"<any\(([^)]*)\):\w+>", segment)
            number = re.fullmatch(r"<int:\w+>", segment)
            if choice:
                variants = [f"{v}/{c.strip()}" for v in variants for c in choice.group(1).split(",")]
            elif number:
                filled = []
                for v in variants:
                    pk = first_id(api, v.rsplit("/", 1)[-1])
                    if pk is not None:
                        filled.append(f"{v}/{pk}")
                if not filled:
                    unfilled.append(rule.rule)
                variants = filled
            elif segment.startswith("<"):          # a generic page's <plural>
                variants = [f"{v}/{plural}" for v in variants for plural in UI_PLURALS]
            else:
                variants = [f"{v}/{segment}" for v in variants]
        paths += [f"{v}" for v in variants]
    return sorted(set(paths)), unfilled


# -- the in-process tests --------------------------------------------------------------------
def test_the_audit_finds_what_it_looks_for():
    bad = ('<html><head><title>Turret | Turret</title></head><body><h1></h1><h1>x</h1><input name="q" id="q">'
           '<button></button><a href="/x"></a><img src="a.png"><p id="d"></p><p id="d"></p>'
           '<select aria-describedby="nope"></select><a href="/y" tabindex="2">y</a></body></html>')
    text = "\n".join(audit(bad))
    for needle in ("lang", "title", "h1s", "duplicate ids ['d']", "unlabelled <input name='q'",
                   "unlabelled <select", "button without text", "link without text", "img without alt",
                   "missing ids ['nope']", "positive tabindex on ['a']"):
        assert needle in text, needle
    good = ('<html lang="en"><head><title>Jobs | Turret</title></head><body><h1>Jobs</h1>'
            '<label for="q">Search</label><input id="q"><label>Size <select name="s"></select></label>'
            '<input type="hidden" name="t"><button><span>Go</span></button><a href="/" aria-label="Home"></a>'
            '<img src="a.png" alt=""></body></html>')
    assert audit(good) == []


def test_every_page_is_sound_for_the_admin_and_a_member(app, api):
    paths, unfilled = page_paths(app, api)
    assert not unfilled, f"pages whose objects the seed lacks: {unfilled}"
    assert len(paths) >= 25, paths
    found: dict[str, list[str]] = {}
    for who, client in (("admin", log_in(app, "admin", PASSWORD)), ("member", log_in(app, MEMBER, MEMBER_PW))):
        for path in paths:
            resp = client.get(path, follow_redirects=True)
            if resp.status_code >= 500:
                found.setdefault(f"{who} {path}", []).append(f"HTTP {resp.status_code}")
                continue
            if not resp.mimetype == "text/html" or "<html" not in resp.text[:200]:
                continue                            # a download or a fragment
            problems = audit(resp.text)
            if who == "member" and resp.status_code in (403, 404) and not problems:
                continue                            # refused, on a proper HTML page
            if problems:
                found[f"{who} {path} ({resp.status_code})"] = problems
    assert not found, json.dumps(found, indent=1)


def test_a_member_is_refused_on_an_html_page(app, api):
    member = log_in(app, MEMBER, MEMBER_PW)
    inv = first_id(api, "credentials")
    resp = member.get(f"/ui/credentials/{inv}")
    assert resp.status_code in (403, 404) and resp.mimetype == "text/html" and audit(resp.text) == []
    missing = member.get("/ui/no-such-page")
    assert missing.status_code == 404 and missing.mimetype == "text/html", missing.text[:300]
    assert audit(missing.text) == []


def _form_of(html: str, action_hint: str) -> tuple[str, dict[str, str]]:
    """(method, data) of the page's save form: the hidden inputs and every field's current value."""
    forms = re.findall(r"<form\b[^>]*>.*?</form>", html, re.S)
    form = next((f for f in forms if 'data-action="save"' in f), None)
    assert form is not None, f"{action_hint}: no form with a data-action=save button"
    data = {}
    for attrs in re.findall(r"<input\b([^>]*)>", form):
        name = re.search(r'name="([^"]*)"', attrs)
        value = re.search(r'value="([^"]*)"', attrs)
        kind = re.search(r'type="([^"]*)"', attrs)
        if name and (not kind or kind.group(1) not in ("checkbox", "radio", "submit")):
            data[name.group(1)] = value.group(1) if value else ""
    return form, data


def test_new_forms_show_errors_beside_the_fields_and_keep_what_was_typed(app, api):
    admin = log_in(app, "admin", PASSWORD)
    paths, _unfilled = page_paths(app, api)
    news = [p for p in paths if p.endswith("/new")]
    assert news, "no /new pages"
    found: dict[str, str] = {}
    checked: list[str] = []
    for path in news:
        page = admin.get(path)
        if page.status_code == 404:
            continue                             # a <plural> with no form
        chooser = re.search(r'<form method="get"[^>]*>.*?<select[^>]*name="(\w+)"[^>]*>'
                            r'.*?<option value="(\d+|[a-z_]+)"', page.text, re.S)
        if 'data-action="save"' not in page.text and chooser:   # a type first (credentials, notifications)
            path = f"{path}?{chooser.group(1)}={chooser.group(2)}"
            page = admin.get(path)
        if page.status_code != 200:
            found[path] = f"GET {page.status_code}"
            continue
        try:
            form, data = _form_of(page.text, path)
        except AssertionError as exc:
            found[path] = str(exc)
            continue
        if 'aria-required="true"' not in form and 'class="req"' not in form:
            continue                             # nothing required (a token): an empty form is valid
        for blank in ("name", "username"):
            if blank in data:
                data[blank] = ""
        typed = "typed-" + uniq("d")
        if "description" in data:
            data["description"] = typed
        resp = admin.post(path, data=data)
        checked.append(path)
        if resp.status_code != 400:
            found[path] = f"empty POST answered {resp.status_code}, not 400"
            continue
        a = Audit()
        a.feed(resp.text)
        described = [f for f in a.fields if set(f.get("aria-describedby", "").split()) & a.field_errors]
        if not described:
            found[path] = "no input is described by a .field-error"
        elif "description" in data and typed not in resp.text:
            found[path] = "the description typed was lost"
        elif audit(resp.text):
            found[path] = "; ".join(audit(resp.text))
    assert not found, json.dumps(found, indent=1)
    assert len(checked) >= 8, checked


# -- in Chromium -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_objects(controller):
    """A finished job and a pending approval on the browser's controller."""
    api = controller.client()
    jt = one(api, "/api/v2/job_templates/?name=Demo+Job+Template")
    job = wait_job(api, ok(api.post(f"/api/v2/job_templates/{jt['id']}/launch/", {}))["id"], timeout=120)
    org = one(api, "/api/v2/organizations/?name=Default")
    wfjt = ok(api.post("/api/v2/workflow_job_templates/", {"name": uniq("a11y-flow"), "organization": org["id"]}))
    node = ok(api.post(f"/api/v2/workflow_job_templates/{wfjt['id']}/workflow_nodes/", {}))
    ok(api.post(f"/api/v2/workflow_job_template_nodes/{node['id']}/create_approval_template/",
                {"name": "a11y-gate-with-a-rather-long-name-to-wrap", "timeout": 0}))
    ok(api.post(f"/api/v2/workflow_job_templates/{wfjt['id']}/launch/", {}))
    api.close()
    return {"job": job["id"], "jt": jt["id"]}


@pytest.mark.slow
def test_phone_width_pages_do_not_scroll_sideways(new_page, live_objects):
    page = new_page(width=390, height=844)
    for path in ("/ui/", f"/ui/jobs/{live_objects['job']}", "/ui/approvals"):
        assert page.goto(path).status == 200, path
        page.wait_for_load_state("load")
        wide = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert wide[0] <= wide[1], f"{path} scrolls sideways at 390px: {wide}"
        # what sticks out of the screen, unless it sits in its own sideways scroller (the
        # navigation strip, a wide output or graph) or is the off-screen skip link
        offenders = page.evaluate("""() => {
            const scrolls = (e) => {
                for (let p = e.parentElement; p; p = p.parentElement) {
                    if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return true;
                }
                return false; };
            return [...document.querySelectorAll('body *')]
              .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !scrolls(e))
              .slice(0, 5).map(e => e.tagName + '.' + e.className); }""")
        assert not offenders, f"{path}: {offenders}"
        screenshot(page, "phone-" + (path.strip("/").replace("/", "-") or "dashboard"))
    # the inbox is one card a request: the decision's comment box gets the screen's width
    comment = page.locator("#approvals input[name=comment]").first.bounding_box()
    assert comment and comment["width"] > 300, comment
    # the navigation is one strip under the brand, not six lines of links
    nav = page.evaluate("() => document.querySelector('.top nav').getBoundingClientRect().height")
    assert nav < 80, f"the navigation takes {nav}px at 390px"
    assert not page.console_errors


@pytest.mark.slow
def test_text_contrast_is_at_least_aa(new_page, live_objects):
    page = new_page()
    jt = live_objects["jt"]
    paths = ["/ui/", "/ui/templates", "/ui/jobs", f"/ui/jobs/{live_objects['job']}", "/ui/approvals",
             "/ui/inventories", "/ui/credentials/new", "/ui/projects", "/ui/users", "/ui/no-such-page",
             f"/ui/templates/{jt}", f"/ui/templates/{jt}/edit", f"/ui/templates/{jt}/survey",
             f"/ui/templates/{jt}/access", f"/ui/schedules/new?unified_job_template={jt}", "/ui/organizations/new",
             "/ui/settings", "/ui/hosts"]
    found = {}
    for path in paths:
        page.goto(path)
        page.wait_for_load_state("load")
        low = page.evaluate(CONTRAST_JS)
        if low:
            found[path] = low[:8]
    # the check itself sees a light grey on white (so an empty result means something)
    page.evaluate("() => { const p = document.createElement('p'); p.textContent = 'faint'; "
                  "p.style.color = '#999'; p.style.background = '#fff'; document.querySelector('main').append(p); }")
    assert any('"faint"' in line for line in page.evaluate(CONTRAST_JS))
    login = new_page(login=False)
    login.goto("/ui/login")
    if login.evaluate(CONTRAST_JS):
        found["/ui/login"] = login.evaluate(CONTRAST_JS)[:8]
    assert not found, json.dumps(found, indent=1)


@pytest.mark.slow
def test_keyboard_reaches_the_content_and_focus_is_visible(new_page):
    page = new_page()
    page.goto("/ui/")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.textContent.trim(), "
                            "document.activeElement.getBoundingClientRect().left]")
    assert focused[0] == "Skip to content" and focused[1] >= 0, focused      # shown when focused
    page.keyboard.press("Enter")
    assert page.evaluate("() => location.hash") == "#main"
    page.keyboard.press("Tab")                                             # the first control in the page
    style = page.evaluate("() => { const s = getComputedStyle(document.activeElement); "
                          "return [document.activeElement.closest('main') !== null, s.outlineStyle, s.outlineWidth]; }")
    assert style[0], "Tab after the skip link must land inside <main>"
    assert style[1] != "none" and float(style[2].rstrip("px")) >= 2, style
