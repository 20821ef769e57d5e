"""The workflow engine: workflow jobs and approvals, the unified-job kinds that run no process.

``graph`` decides (pure), ``engine`` launches, advances, cancels and relaunches workflow jobs,
``node_launch`` builds what a node's job is launched with, ``approvals`` runs approval steps.
"""
