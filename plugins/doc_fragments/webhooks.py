# -*- coding: utf-8 -*-
# Copyright: Turret maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The webhook options of every object a webhook can start: job templates, workflow job templates and
    # projects (module_utils/webhook.py webhook_fields, sync_webhook_key).
    DOCUMENTATION = r'''
options:
  webhook_service:
    description:
      - The service whose webhooks may start this object (empty for none); its receiver is
        C(POST /api/v2/<objects>/<id>/<service>/), which needs no login but checks the service's signature or
        token against the webhook key.
      - Setting a service makes the controller generate a 50-character webhook key when the object has none.
    type: str
    choices: ['', github, gitlab, bitbucket_dc]
  webhook_key:
    description:
      - The secret the webhook service signs its deliveries with (GitHub, Bitbucket Data Center) or sends as
        its token (GitLab), at least 16 characters. Set with C(POST webhook_key/) after the object is saved.
      - Compared with the stored key (read with C(GET webhook_key/), which needs admin rights on the object),
        so a second run with the same key reports no change; the key is never shown in the task's result or diff.
      - Left out, the stored key (generated or set before) stays.
    type: str
  webhook_events:
    description:
      - The events that start the object, as a comma-separated list of the service's event names
        (for example C(push,pull_request) or C(Push Hook)); other deliveries are answered 200 and ignored.
      - Empty (the default) accepts every event, as AWX does.
    type: str
  webhook_ref_filter:
    description:
      - A shell-style pattern (C(fnmatch)) the delivery's Git ref must match to start the object, for example
        C(refs/heads/main) or C(refs/tags/v*); other deliveries are answered 200 and ignored.
      - Empty (the default) accepts any ref.
    type: str
'''

    # Job templates and workflow job templates also post the job's status back and take the generic
    # receiver's extractors.
    TEMPLATES = r'''
options:
  webhook_credential:
    description:
      - The credential, by name or id (or a C(name++organization) named URL).
      - The personal access token (GitHub, GitLab or Bitbucket Data Center token credential) used to post the
        status of a job started by a webhook back to the commit or pull request.
    type: str
  webhook_extractors:
    description:
      - For the generic receiver C(POST /api/v2/<templates>/<id>/webhook/), extra variable name -> dotted
        path of a value in the delivered JSON, for example C(alert_name) -> C(alerts.0.labels.alertname).
      - The extracted values reach the job as unsafe text (never templated); compared as data.
    type: dict
'''
