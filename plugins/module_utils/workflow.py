# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A workflow job template's graph declared inline: :func:`sync_workflow_nodes` makes the stored
nodes (``/workflow_job_template_nodes/``), their approval templates and their edges equal to a
list of node declarations keyed by ``identifier``, with check mode and diff.

A declared node is exactly what it lists: a field left out takes its default (a prompt: null,
"not given"), except ``credentials`` and ``labels``, which are only synced when given. Nodes not
declared are deleted. Edges name the child's identifier.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import same

EDGES = ("success_nodes", "failure_nodes", "always_nodes")
# node field -> its default; a field the server does not show is never compared nor sent
NODE_FIELDS = dict(
    all_parents_must_converge=False, extra_data={}, limit=None, scm_branch=None, job_type=None,
    job_tags=None, skip_tags=None, diff_mode=None, verbosity=None, forks=None, job_slice_count=None,
    timeout=None, start_at_task=None, force_handlers=None, become_enabled=None, max_retries=0, retry_delay=0)
NODE_KEYS = set(NODE_FIELDS) | set(EDGES) | set(
    ("identifier", "unified_job_template", "inventory", "credentials", "labels", "related"))
# unified_job_template type -> endpoint and the lookup scope its organization/inventory narrows
UJT_ENDPOINTS = {"job_template": "job_templates", "project": "projects", "inventory_source": "inventory_sources",
                 "workflow_job_template": "workflow_job_templates"}
APPROVAL_TYPES = ("approval", "workflow_approval", "workflow_approval_template")
APPROVAL_FIELDS = ("name", "description", "timeout", "required_approvals", "on_timeout")


class NodeError(Exception):
    """A declaration the module refuses before any request (the message says which node)."""


def _name(value):
    """``Default`` or awx.awx's ``{name: Default}``."""
    return value.get("name") if isinstance(value, dict) else value


def _children(node, edge):
    """Child identifiers of one edge type: a list of identifiers or of ``{identifier: x}``
    (awx.awx puts them under ``related``)."""
    items = node.get(edge)
    if items is None:
        items = (node.get("related") or {}).get(edge)
    return [i.get("identifier") if isinstance(i, dict) else str(i) for i in items or []]


def plan_nodes(api, declared):
    """Validate and resolve the declarations (names -> ids) into plans, one per node.

    A plan is a dict: ``identifier``, ``fields`` (API body without the template), ``ujt`` (an id),
    or ``approval`` (the approval template's fields), ``edges`` (type -> identifiers),
    ``credentials``/``labels`` (ids or None). Raises :class:`NodeError` on a bad declaration and
    ``ControllerError`` on a name that does not resolve, so check mode fails the same way.
    """
    plans, seen = [], set()
    for node in declared:
        ident = node.get("identifier")
        if not ident:
            raise NodeError("every workflow node needs an identifier: %r" % (node,))
        if ident in seen:
            raise NodeError("identifier %r is declared twice" % ident)
        seen.add(ident)
        unknown = sorted(set(node) - NODE_KEYS)
        if unknown:
            raise NodeError("node %s: unknown keys %s" % (ident, ", ".join(unknown)))
        plan = dict(identifier=ident, edges=dict((e, _children(node, e)) for e in EDGES))
        plan["fields"] = dict((k, node[k] if node.get(k) is not None else default)
                              for k, default in NODE_FIELDS.items())
        plan["fields"]["inventory"] = api.resolve_id("inventories", _name(node.get("inventory")))
        plan.update(_resolve_template(api, ident, node.get("unified_job_template")))
        for key in ("credentials", "labels"):
            given = node.get(key)
            plan[key] = None if given is None else [api.resolve_id(key, _name(c)) for c in given]
        plans.append(plan)
    for plan in plans:
        for edge, children in plan["edges"].items():
            missing = [c for c in children if c not in seen]
            if missing:
                raise NodeError("node %s: %s names undeclared nodes %s" % (plan["identifier"], edge, missing))
        linked = [c for e in EDGES for c in set(plan["edges"][e])]
        if len(linked) != len(set(linked)):
            raise NodeError("node %s: a child under two edge types (use always_nodes)" % plan["identifier"])
    _refuse_cycles(plans)
    return plans


def _refuse_cycles(plans):
    """Raise before any write when the declared edges loop (the API would refuse the last edge)."""
    children = dict((p["identifier"], set(c for e in EDGES for c in p["edges"][e])) for p in plans)
    state = {}     # identifier -> 1 while on the path, 2 when done

    def visit(ident, path):
        state[ident] = 1
        for child in sorted(children[ident]):
            if state.get(child) == 1:
                raise NodeError("Cycle detected: %s" % " -> ".join(path + [ident, child]))
            if child not in state:
                visit(child, path + [ident])
        state[ident] = 2

    for ident in sorted(children):
        if ident not in state:
            visit(ident, [])


def _resolve_template(api, ident, ujt):
    """``{"ujt": id}`` or ``{"approval": fields}`` for a node's ``unified_job_template``."""
    if ujt is None:         # a node whose template was deleted: it takes its failure path
        return {"ujt": None}
    if not isinstance(ujt, dict):
        return {"ujt": api.resolve_id("unified_job_templates", ujt)}
    kind = ujt.get("type") or "job_template"
    if kind in APPROVAL_TYPES:
        if not ujt.get("name"):
            raise NodeError("node %s: an approval needs a name" % ident)
        return {"approval": dict((k, ujt[k]) for k in APPROVAL_FIELDS if ujt.get(k) is not None)}
    if kind not in UJT_ENDPOINTS:
        raise NodeError("node %s: unified_job_template type must be one of %s" % (
            ident, ", ".join(sorted(UJT_ENDPOINTS) + ["approval"])))
    scope = {}
    if kind == "inventory_source" and ujt.get("inventory"):
        inv = ujt["inventory"]
        if isinstance(inv, dict) and not inv.get("name"):   # awx.awx: {organization: {name: X}}
            scope["inventory__organization"] = api.resolve_id("organizations", _name(inv.get("organization")))
        else:
            scope["inventory"] = api.resolve_id("inventories", _name(inv))
    elif kind != "inventory_source" and ujt.get("organization"):
        scope["organization"] = api.resolve_id("organizations", _name(ujt["organization"]))
    return {"ujt": api.lookup(UJT_ENDPOINTS[kind], ujt.get("name"), scope=scope)["id"]}


def _edges_of(api, node):
    """type -> child ids of a stored node (its id-list fields when shown, else its sub-lists)."""
    return dict((e, node[e] if isinstance(node.get(e), list) else api.associated_ids(node, e)) for e in EDGES)


def _approval_of(api, node):
    """The approval template a stored node runs, or None."""
    url = (node.get("related") or {}).get("unified_job_template")
    if not node.get("unified_job_template") or not url:
        return None
    ujt = api.get(url)
    return ujt if ujt.get("type") == "workflow_approval_template" else None


def _same(existing, desired):
    """``same`` where a field reset to null also matches a stored empty string."""
    if desired is None:
        return existing in (None, "")
    return same(existing, desired)


class Sync(object):
    """One run of the sync: ``changes`` lists what differs (applied unless check mode)."""

    def __init__(self, module, wfjt):
        self.api = module.api
        self.check = module.check_mode
        self.wfjt = wfjt
        self.changes = []
        self.ids = {}           # identifier -> node id (None: created in check mode)

    def run(self, plans):
        current = self.api.list("workflow_job_template_nodes", {"workflow_job_template": self.wfjt["id"]})
        stored = dict((n["identifier"], n) for n in current)
        ident_of = dict((n["id"], n["identifier"]) for n in current)
        edges_before = dict((n["identifier"], _edges_of(self.api, n)) for n in current)
        declared = set(p["identifier"] for p in plans)
        for node in current:
            if node["identifier"] not in declared:
                self._change("remove node %s" % node["identifier"], self.api.remove, node)
        for plan in plans:
            self.ids[plan["identifier"]] = self._ensure_node(plan, stored.get(plan["identifier"]))
        self._ensure_edges(plans, dict(
            (i, dict((e, set(ident_of.get(c) for c in ids)) for e, ids in edges.items()))
            for i, edges in edges_before.items() if i in declared))
        return self.changes

    def _change(self, what, call, *args):
        self.changes.append(what)
        return None if self.check else call(*args)

    def _ensure_node(self, plan, node):
        ident, api = plan["identifier"], self.api
        fields = dict(plan["fields"])
        if "ujt" in plan:
            fields["unified_job_template"] = plan["ujt"]
        if node is None:
            body = dict((k, v) for k, v in fields.items() if v is not None)
            body.update(workflow_job_template=self.wfjt["id"], identifier=ident)
            node = self._change("create node %s" % ident, api.create, "workflow_job_template_nodes", body)
        else:
            changes = dict((k, v) for k, v in fields.items() if k in node and not _same(node[k], v))
            if changes:
                node = self._change("update node %s: %s" % (ident, ", ".join(sorted(changes))),
                                    api.update, node, changes) or node
        if node is not None and "approval" in plan:
            self.ensure_approval(ident, node, plan["approval"])
        elif node is None and "approval" in plan:
            self.changes.append("create approval %s" % plan["approval"]["name"])
        for key in ("credentials", "labels"):
            if plan[key] is None:
                continue
            if node is None:
                self.changes += ["%s of node %s" % (key, ident)] if plan[key] else []
                continue
            added, removed = api.set_associations(node, key, plan[key], self.check)
            if added or removed:
                self.changes.append("%s of node %s" % (key, ident))
        return node["id"] if node else None

    def ensure_approval(self, ident, node, wanted):
        api = self.api
        approval = _approval_of(api, node)
        if approval is None:
            first = dict((k, wanted[k]) for k in ("name", "description", "timeout") if k in wanted)
            approval = self._change("create approval %s for node %s" % (wanted["name"], ident), api.post,
                                    node["related"]["create_approval_template"], first)
            if approval is None:
                return
        changes = dict((k, v) for k, v in wanted.items() if not _same(approval.get(k), v))
        if changes:
            self._change("update approval of node %s: %s" % (ident, ", ".join(sorted(changes))),
                         api.update, approval, changes)

    def _ensure_edges(self, plans, before):
        """Removals first: a pair may move from one edge type to another (the API refuses a
        second type for a linked pair)."""
        todo = []
        for plan in plans:
            parent = plan["identifier"]
            for edge in EDGES:
                # edges to undeclared nodes went with them
                old = set(c for c in before.get(parent, {}).get(edge, set()) if c in self.ids)
                new = set(plan["edges"][edge])
                todo += [(True, parent, edge, child) for child in sorted(old - new)]
                todo += [(False, parent, edge, child) for child in sorted(new - old)]
        for remove, parent, edge, child in sorted(todo, key=lambda t: not t[0]):
            what = "%s %s %s -> %s" % ("unlink" if remove else "link", edge, parent, child)
            self.changes.append(what)
            if not self.check:
                node_url = "workflow_job_template_nodes/%s/" % self.ids[parent]
                self.api.associate(node_url, edge, self.ids[child], disassociate=remove)


def describe_plans(plans):
    """The declared graph for a diff: identifier -> what the node runs, its edges and fields."""
    out = {}
    for plan in plans:
        item = dict((k, v) for k, v in plan["fields"].items() if v != NODE_FIELDS.get(k))
        item["unified_job_template"] = dict(approval=plan["approval"]) if "approval" in plan else plan["ujt"]
        item.update((e, sorted(c)) for e, c in plan["edges"].items() if c)
        out[plan["identifier"]] = item
    return out


def sync_workflow_nodes(module, result, declared):
    """Make the graph of ``result["object"]`` (a workflow job template) the ``declared`` nodes.

    Sets ``result["nodes"]`` (identifier -> node id, null for a node created in check mode),
    ``changed`` and the diff's ``workflow_nodes`` (the list of changes).
    """
    try:
        plans = plan_nodes(module.api, declared)
    except NodeError as e:
        module.fail_json(msg=str(e))
    wfjt = result["object"]
    if not wfjt.get("url"):     # the template itself is created in check mode
        result["nodes"] = dict((p["identifier"], None) for p in plans)
        changes = ["create node %s" % p["identifier"] for p in plans]
    else:
        sync = Sync(module, wfjt)
        changes = sync.run(plans)
        result["nodes"] = sync.ids
    if changes:
        result["changed"] = True
        diff = result.setdefault("diff", {"before": {}, "after": {}})
        diff["after"]["workflow_nodes"] = describe_plans(plans)
        diff["after"]["workflow_node_changes"] = changes
