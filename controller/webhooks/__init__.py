"""Inbound webhooks (issue 15): AWX's GitHub, GitLab and Bitbucket Data Center receivers on job
templates, workflow job templates and projects, and Turret's generic receiver.

Modules: :mod:`.fields` (the fields templates and jobs declare, the key's life), :mod:`.verify`
(pure: signatures, delivery GUIDs, event types and refs of each service), :mod:`.receive` (one
delivery: verify, de-duplicate, filter, rate-limit, launch, record), :mod:`.status` (the status
post-back).  Nothing here trusts the payload: it reaches a job only as ``!unsafe`` runtime vars.
"""
