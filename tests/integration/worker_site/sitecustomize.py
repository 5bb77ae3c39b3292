"""Start-up hook for every Python process an integration test's framework starts.

A test puts this folder on ``PYTHONPATH`` and names its own directory in ``SESSIONPOOL_IT_DIR``;
Python imports ``sitecustomize`` at start-up, so gunicorn's and celery's processes, Spark's and
Ray's Python workers, loky's and multiprocessing's spawned workers all install the loopback
guard and the pool observer (see ``_it_probe``) before running any of their own code. Without
that variable this does nothing.
"""

import os

if os.environ.get("SESSIONPOOL_IT_DIR"):
    import _it_probe

    _it_probe.install(os.environ["SESSIONPOOL_IT_DIR"])
