"""Running unified jobs: the executor seam over ansible-runner, event ingestion, dispatch."""
