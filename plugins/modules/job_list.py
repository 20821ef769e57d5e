#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.turret.controller.plugins.module_utils.module import ControllerError, ControllerModule


def main():
    module = ControllerModule(argument_spec=dict(
        status=dict(type="str", choices=["new", "pending", "waiting", "running", "successful", "failed", "error", "canceled"]),
        job_template=dict(type="str"), query=dict(type="dict"),
        all_pages=dict(type="bool", default=False), page_size=dict(type="int", default=25),
    ), supports_check_mode=True)
    p, api = module.params, module.api
    try:
        query = dict(p["query"] or {}, order_by="-id")
        if p["status"]:
            query["status"] = p["status"]
        if p["job_template"]:
            query["job_template"] = api.resolve_id("job_templates", p["job_template"])
        first = api.get("jobs", dict(query, page_size=p["page_size"]))
        results = api.list("jobs", query) if p["all_pages"] else first["results"]
        module.exit_json(changed=False, count=first["count"], results=results)
    except ControllerError as e:
        module.fail(e)


if __name__ == '__main__':
    main()
