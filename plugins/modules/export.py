#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.api import ENCRYPTED
from ansible_collections.turret.controller.plugins.module_utils.module import ControllerError, ControllerModule, parse_vars
from ansible_collections.turret.controller.plugins.module_utils.workflow import EDGES, NODE_FIELDS

PROJECT_KEYS = ("description", "scm_type", "scm_url", "scm_branch", "scm_refspec", "scm_clean", "scm_track_submodules",
                "scm_delete_on_update", "scm_update_on_launch", "scm_update_cache_timeout", "allow_override", "timeout")
SOURCE_KEYS = ("description", "source", "source_path", "scm_branch", "overwrite", "overwrite_vars", "update_on_launch")
JT_KEYS = ("description", "playbook", "job_type", "limit", "forks", "verbosity", "become_enabled",
           "ask_variables_on_launch", "ask_limit_on_launch", "ask_inventory_on_launch", "ask_credential_on_launch",
           "allow_simultaneous", "survey_enabled")
WORKFLOW_KEYS = ("description", "limit", "scm_branch", "job_tags", "skip_tags", "survey_enabled", "allow_simultaneous",
                 "ask_variables_on_launch", "ask_inventory_on_launch", "ask_scm_branch_on_launch", "ask_limit_on_launch",
                 "ask_labels_on_launch", "ask_skip_tags_on_launch", "ask_tags_on_launch")
APPROVAL_KEYS = ("name", "description", "timeout", "required_approvals", "on_timeout")
NOTIFICATION_KEYS = ("description", "notification_type", "messages")
NOTIFY_EVENTS = ("started", "success", "error")
SCHEDULE_KEYS = ("description", "rrule", "cron", "interval", "interval_type", "date", "timezone", "enabled", "limit")
WEBHOOK_KEYS = ("webhook_service", "webhook_events", "webhook_ref_filter")


def jinja_raw(value):
    """``value`` with every string holding Jinja wrapped in a raw block: Ansible renders the
    variables of the configure playbook once, which then gives back the text itself.  Applied
    once, to the whole export (a second pass would wrap the wrapped text again)."""
    if isinstance(value, dict):
        return dict((k, jinja_raw(v)) for k, v in value.items())
    if isinstance(value, list):
        return [jinja_raw(v) for v in value]
    if isinstance(value, str) and any(mark in value for mark in ("{{", "{%", "{#")):
        return "{% raw %}" + value.replace("{% endraw %}", "{% endraw %}{{ '{% endraw %}' }}{% raw %}") + "{% endraw %}"
    return value


class Exporter:
    def __init__(self, api, orgs):
        self.api = api
        self.orgs = orgs
        self.cred_name = {}

    def names(self, endpoint, key="name"):
        return dict((o["id"], o[key]) for o in self.api.list(endpoint))

    def org_ok(self, obj):
        org = (obj.get("summary_fields") or {}).get("organization", {}).get("name")
        return not self.orgs or org in self.orgs

    def pick(self, obj, keys):
        return dict((k, obj[k]) for k in keys if obj.get(k) not in (None, ""))

    def run(self):
        api = self.api
        out = {}
        orgs = [o for o in api.list("organizations") if not self.orgs or o["name"] in self.orgs]
        org_name = self.names("organizations")
        self.cred_name = self.names("credentials")
        out["controller_organizations"] = [self.notifications(o, dict(self.pick(o, ("description",)), name=o["name"],
                                                                      max_hosts=o["max_hosts"]), approvals=True)
                                           for o in orgs]
        out["controller_notification_templates"] = [self.notification_template(n, org_name)
                                                    for n in api.list("notification_templates") if self.org_ok(n)]
        out["controller_users"] = [dict(self.pick(u, ("email", "first_name", "last_name")), username=u["username"],
                                        is_superuser=u["is_superuser"], is_system_auditor=u["is_system_auditor"])
                                   for u in api.list("users")] if not self.orgs else []
        out["controller_teams"] = [dict(self.pick(t, ("description",)), name=t["name"], organization=org_name[t["organization"]])
                                   for t in api.list("teams") if self.org_ok(t)]
        types = api.list("credential_types")
        type_name = dict((t["id"], t["name"]) for t in types)
        out["controller_credential_types"] = [dict(self.pick(t, ("description", "inputs", "injectors")), name=t["name"], kind=t["kind"])
                                              for t in types if not t.get("managed")]
        out["controller_credentials"] = []
        for c in api.list("credentials"):
            if not self.org_ok(c) or not c.get("organization"):
                continue
            inputs = dict((k, v) for k, v in (c.get("inputs") or {}).items() if v != ENCRYPTED)
            out["controller_credentials"].append(dict(self.pick(c, ("description",)), name=c["name"], inputs=inputs,
                                                      organization=org_name[c["organization"]],
                                                      credential_type=type_name[c["credential_type"]]))
        out["controller_projects"] = []
        for p in api.list("projects"):
            if not self.org_ok(p):
                continue
            item = dict(self.pick(p, PROJECT_KEYS), name=p["name"], organization=org_name.get(p["organization"]))
            if not p.get("scm_type"):
                item["local_path"] = p["local_path"]
            out["controller_projects"].append(self.notifications(p, self.webhook(p, item)))
        out["controller_inventories"] = [self.inventory(i, org_name) for i in api.list("inventories") if self.org_ok(i)]
        inv_ref = dict((i["id"], "%s++%s" % (i["name"], org_name[i["organization"]])) for i in api.list("inventories"))
        proj_ref = dict((p["id"], "%s++%s" % (p["name"], org_name.get(p["organization"], ""))) for p in api.list("projects"))
        out["controller_inventory_sources"] = [
            dict(self.pick(s, SOURCE_KEYS), name=s["name"], inventory=inv_ref[s["inventory"]],
                 source_project=proj_ref.get(s.get("source_project")), source_vars=parse_vars(s.get("source_vars")) or None)
            for s in api.list("inventory_sources") if s["inventory"] in inv_ref]
        out["controller_job_templates"] = [self.job_template(j, inv_ref, proj_ref) for j in api.list("job_templates")
                                           if self.org_ok(j)]
        templates = dict((t["id"], t) for t in api.list("unified_job_templates"))
        out["controller_workflow_job_templates"] = [self.workflow(w, inv_ref, org_name, templates)
                                                    for w in api.list("workflow_job_templates") if self.org_ok(w)]
        jt_names = set(j["name"] for j in out["controller_job_templates"] + out["controller_workflow_job_templates"])
        out["controller_schedules"] = [self.schedule(s) for s in api.list("schedules")
                                       if (s.get("summary_fields") or {}).get("unified_job_template", {}).get("name") in jt_names]
        return jinja_raw(dict((k, [dict((ik, iv) for ik, iv in i.items() if iv is not None) for i in v])
                              for k, v in out.items()))

    def schedule(self, sched):
        item = dict(self.pick(sched, SCHEDULE_KEYS), name=sched["name"],
                    unified_job_template=sched["summary_fields"]["unified_job_template"]["name"])
        # one form of recurrence: the rrule is derived from cron, interval or date when they are set
        if any(item.get(k) for k in ("cron", "interval", "date")):
            item.pop("rrule", None)
        for key in ("cron", "interval", "date"):
            if not item.get(key):
                item.pop(key, None)
        if not item.get("interval"):
            item.pop("interval_type", None)
        return item

    def inventory(self, inv, org_name):
        api = self.api
        hosts = api.list(inv["related"]["hosts"])
        groups = api.list(inv["related"]["groups"])
        item = dict(self.pick(inv, ("description", "kind", "host_filter")), name=inv["name"],
                    organization=org_name[inv["organization"]], variables=parse_vars(inv.get("variables")) or None)
        item["hosts"] = [dict(self.pick(h, ("description", "instance_id")), name=h["name"], enabled=h["enabled"],
                              variables=parse_vars(h.get("variables")) or None) for h in hosts]
        item["groups"] = []
        for g in groups:
            item["groups"].append(dict(
                self.pick(g, ("description",)), name=g["name"], variables=parse_vars(g.get("variables")) or None,
                hosts=[h["name"] for h in api.list(g["related"]["hosts"])],
                children=[c["name"] for c in api.list(g["related"]["children"])]))
        for key in ("hosts", "groups"):
            item[key] = [dict((k, v) for k, v in i.items() if v is not None) for i in item[key]]
        return item

    def job_template(self, jt, inv_ref, proj_ref):
        api = self.api
        item = dict(self.pick(jt, JT_KEYS), name=jt["name"], project=proj_ref.get(jt.get("project")),
                    inventory=inv_ref.get(jt.get("inventory")), extra_vars=parse_vars(jt.get("extra_vars")) or None)
        item["credentials"] = [c["name"] for c in api.list(jt["related"]["credentials"])]
        item["labels"] = [lb["name"] for lb in api.list(jt["related"]["labels"])]
        self.survey(jt, item)
        return self.notifications(jt, self.webhook(jt, item))

    def notification_template(self, nt, org_name):
        """A notification template as turret.controller.notification_template options; secret
        configuration values (shown as ``$encrypted$``) cannot be read back and are left out, and so
        are empty ones (the server fills those in again), so an export re-imported exports the same."""
        config = dict((k, v) for k, v in (nt.get("notification_configuration") or {}).items()
                      if v not in (ENCRYPTED, ""))
        item = dict(self.pick(nt, NOTIFICATION_KEYS), name=nt["name"], organization=org_name.get(nt.get("organization")),
                    notification_configuration=config)
        return item

    def notifications(self, obj, item, approvals=False):
        """``item`` plus the object's non-empty ``notification_templates_<event>`` lists, by name."""
        for event in NOTIFY_EVENTS + (("approvals",) if approvals else ()):
            url = obj.get("related", {}).get("notification_templates_" + event)
            names = [n["name"] for n in self.api.list(url)] if url else []
            if names:
                item["notification_templates_" + event] = names
        return item

    def webhook(self, obj, item):
        """``item`` plus the object's webhook settings that differ from the defaults: service,
        events, ref filter, extractors, the status credential by name and (projects)
        ``scm_update_on_push``.  The key is a secret the API never shows: left out."""
        item.update(self.pick(obj, WEBHOOK_KEYS))
        if obj.get("webhook_extractors"):
            item["webhook_extractors"] = obj["webhook_extractors"]
        if obj.get("webhook_credential"):
            item["webhook_credential"] = self.cred_name.get(obj["webhook_credential"])
        if obj.get("scm_update_on_push"):
            item["scm_update_on_push"] = True
        return item

    def survey(self, template, item):
        try:
            survey = self.api.get(template["url"] + "survey_spec/")
        except ControllerError:
            survey = None
        if survey and survey.get("spec"):
            item["survey_spec"] = survey

    def workflow(self, wf, inv_ref, org_name, templates):
        """A workflow job template as turret.controller.workflow_job_template options, with its nodes
        (sorted by identifier) as ``workflow_nodes``."""
        api = self.api
        item = dict(self.pick(wf, WORKFLOW_KEYS), name=wf["name"], organization=org_name.get(wf.get("organization")),
                    inventory=inv_ref.get(wf.get("inventory")), extra_vars=parse_vars(wf.get("extra_vars")) or None)
        item["labels"] = [lb["name"] for lb in api.list(wf["related"]["labels"])]
        self.survey(wf, item)
        self.webhook(wf, item)
        self.notifications(wf, item, approvals=True)
        nodes = api.list("workflow_job_template_nodes", {"workflow_job_template": wf["id"]})
        ident = dict((n["id"], n["identifier"]) for n in nodes)
        item["workflow_nodes"] = [self.node(n, ident, inv_ref, org_name, templates)
                                  for n in sorted(nodes, key=lambda n: n["identifier"])]
        return item

    def node(self, node, ident, inv_ref, org_name, templates):
        api = self.api
        item = dict((k, node[k]) for k, default in NODE_FIELDS.items() if k in node and node[k] not in (default, None, ""))
        item.update(identifier=node["identifier"], unified_job_template=self.node_template(
            templates.get(node.get("unified_job_template")), inv_ref, org_name))
        if node.get("inventory"):
            item["inventory"] = inv_ref.get(node["inventory"])
        for edge in EDGES:
            children = node[edge] if isinstance(node.get(edge), list) else api.associated_ids(node, edge)
            if children:
                item[edge] = sorted(ident[c] for c in children)
        for key in ("credentials", "labels"):
            names = [o["name"] for o in api.list(node["related"][key])] if node["related"].get(key) else []
            if names:
                item[key] = names
        return item

    def node_template(self, ujt, inv_ref, org_name):
        """What a node runs, by type and name (an approval with its settings)."""
        if ujt is None:
            return None
        if ujt["type"] == "workflow_approval_template":
            return dict(self.pick(self.api.get(ujt["url"]), APPROVAL_KEYS), type="approval")
        key = "inventory" if ujt["type"] == "inventory_source" else "organization"
        if key not in ujt:     # a unified list row may show only the common fields
            ujt = self.api.get(ujt["url"])
        ref = dict(type=ujt["type"], name=ujt["name"])
        if ujt["type"] == "inventory_source":
            ref["inventory"] = inv_ref.get(ujt.get("inventory"))
        elif org_name.get(ujt.get("organization")):
            ref["organization"] = org_name[ujt["organization"]]
        return ref


def main():
    module = ControllerModule(argument_spec=dict(organizations=dict(type="list", elements="str")),
                              supports_check_mode=True)
    try:
        assets = Exporter(module.api, module.params["organizations"]).run()
        module.exit_json(changed=False, assets=assets)
    except ControllerError as e:
        module.fail(e)


if __name__ == '__main__':
    main()
