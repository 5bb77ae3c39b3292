"""Helpers shared by the test suites and the benchmarks; import them from their modules.

* ``aws``: the dummy keys, the AWS config and credentials files every test gets, the secrets
  the log scan looks for, and :func:`~tests.support.aws.isolate_aws_env`.
* ``servers``: moto's server in this process (:class:`~tests.support.servers.MotoServer`), in a
  process of its own behind a keep-alive front that can be stopped and restarted
  (:class:`~tests.support.servers.MotoProcess`), and loopback ports that refuse connections.
* ``request_log``: :class:`~tests.support.request_log.RequestLog`, requests counted at the
  server by operation and by the key that signed them (standard library only: the benchmarks
  import it too).
* ``probes``: this process's open descriptors and resident memory.
* ``waits``: :func:`~tests.support.waits.wait_until` a condition holds, and
  :func:`~tests.support.waits.blocked_in` to see where a thread is waiting.
* ``threads``: :func:`~tests.support.threads.run_together`, N threads released by a Barrier.
* ``tags``: :func:`~tests.support.tags.tag`, a name for an object that is never reused, and the
  close log that counts ``BaseClient.close`` per client.
* ``logs``: the scan of log records for secrets, and botocore's loggers quietened.
* ``memory``: secrets planted in keys, and a scan of everything in memory for them.
* ``tracking``: sessions a thread can reach that its pool no longer tracks.

Nothing here is imported by the package, and nothing here imports pytest at run time, so a
spawned worker or a benchmark can import what it needs.
"""

from __future__ import annotations

__all__: list[str] = []
