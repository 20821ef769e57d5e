"""Scale-out: the Celery transport of the executor seam, ``turret worker``, and the fleet of
workers seen as AWX instances.

Embedded mode (no ``TURRET_BROKER_URL``) never imports this package's Celery parts: jobs run in
the controller's own process as before.  Distributed mode carries ansible-runner's
``transmit → worker → process`` stream: the controller transmits a job's private data dir,
a Celery task on a worker runs ``ansible-runner worker`` on it, and the frames come back
over a Redis stream to the controller's ``process`` side and the same event writer.
"""
