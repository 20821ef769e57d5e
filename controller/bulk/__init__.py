"""The bulk API's services (AWX ``/api/v2/bulk/``): many hosts created or deleted in one
transaction (:mod:`.hosts`), many jobs launched as one workflow job (:mod:`.jobs`).
Above the job layer: a bulk job launch starts a workflow job through the workflow engine."""
