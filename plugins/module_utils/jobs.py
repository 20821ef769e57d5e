# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The frame of the modules that start a job or act on one (launch, update, wait, cancel): their
shared options and :func:`launch_and_wait`, which starts the job, reads it back and waits for it
as awx.awx's modules do."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.api import ControllerError
from ansible_collections.turret.controller.plugins.module_utils.module import ControllerModule


def wait_spec(default_wait=True):
    """Options of modules that start a job and may wait for it."""
    return dict(wait=dict(type="bool", default=default_wait),
                timeout=dict(type="float", default=600),
                interval=dict(type="float", default=1.0))


def job_options_spec(playbook=False):
    """The run options of the ``job_options`` doc fragment (with ``playbook``, also of its
    ``playbook`` variant): the same spec for job_template, schedule, job_launch and ad_hoc_command."""
    spec = dict(job_type=dict(type="str", choices=["run", "check"]), limit=dict(type="str"),
                forks=dict(type="int"), verbosity=dict(type="int", choices=[0, 1, 2, 3, 4, 5]),
                diff_mode=dict(type="bool"))
    if playbook:
        spec.update(scm_branch=dict(type="str"), job_tags=dict(type="str"), skip_tags=dict(type="str"))
    return spec


def job_ref_spec(**extra):
    """The options of the ``job_ref`` doc fragment (which job a module acts on), plus ``extra``."""
    spec = dict(job_id=dict(type="int", required=True),
                job_type=dict(type="str", default="jobs",
                              choices=["jobs", "project_updates", "inventory_updates", "ad_hoc_commands",
                                       "workflow_jobs"]))
    spec.update(extra)
    return spec


def launch_and_wait(module, prepare, jobs, job_key=None, show_body=False):
    """Start one job and exit with it: the frame every job-starting module shares.

    ``prepare(params, api)`` resolves names (so a wrong name fails in check mode too) and returns
    ``(url, body)`` of the POST that starts the job. In check mode nothing is posted and the task
    reports a change with ``id: null`` (and the body under ``launch`` when ``show_body``).
    The POST answer names the job by ``job_key`` (e.g. ``project_update``) or by its ``id``;
    the job is read back from ``jobs/<id>`` and waited for when the module's ``wait`` is set.
    """
    try:
        url, body = prepare(module.params, module.api)
        if module.check_mode:
            extra = dict(launch=body) if show_body else {}
            module.exit_json(changed=True, id=None, status=None, job={}, **extra)
        started = module.api.post(url, body)
        if job_key is None:     # the answer is the job itself
            job, job_url = started, "%s/%s" % (jobs, started["id"])
        else:                   # the answer names the job: read it
            job_url = "%s/%s" % (jobs, started.get(job_key) or started["id"])
            job = module.api.get(job_url)
        job_result(module, job, job_url)
    except ControllerError as e:
        module.fail(e)


class Update(object):
    """A template whose ``update`` action starts a sync: a project or an inventory source."""

    def __init__(self, endpoint, scope, job_key, jobs):
        self.endpoint = endpoint    # e.g. "projects"
        self.scope = scope          # lookup scope: option -> endpoint, e.g. {"organization": "organizations"}
        self.job_key = job_key      # the key of the update's id in the POST answer, e.g. "project_update"
        self.jobs = jobs            # where the update job is read, e.g. "project_updates"


def run_update(update):
    """The whole of a ``*_update`` module: look the template up, start its update, wait."""
    spec = dict(name=dict(type="str", required=True))
    spec.update((k, dict(type="str")) for k in update.scope)
    spec.update(wait_spec())
    module = ControllerModule(argument_spec=spec, supports_check_mode=True)

    def prepare(p, api):
        scope = dict((k, api.resolve_id(ep, p[k])) for k, ep in update.scope.items() if p.get(k))
        return api.lookup(update.endpoint, p["name"], scope=scope)["related"]["update"], None

    launch_and_wait(module, prepare, update.jobs, job_key=update.job_key)


def job_result(module, job, url, changed=True):
    """Wait for ``job`` when asked, then exit like awx.awx: failed unless it succeeded."""
    p = module.params
    result = dict(changed=changed, id=job.get("id"), status=job.get("status"), job=job)
    if p.get("wait") and not module.check_mode and job.get("id"):
        job = module.api.wait(url, timeout=p.get("timeout"), interval=p.get("interval") or 1.0)
        result.update(status=job.get("status"), job=job, elapsed=job.get("elapsed"),
                      finished=job.get("finished"), started=job.get("started"))
        if job.get("status") != "successful":
            why = (": " + job["job_explanation"]) if job.get("job_explanation") else ""
            module.fail_json(msg="%s %s ended %s%s" % (job.get("type", "job"), job.get("id"), job.get("status"), why),
                             **result)
    module.exit_json(**result)
