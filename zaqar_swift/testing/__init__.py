"""Development and test tooling: never imported by the service itself
(``unit/test_service_imports.py`` checks it).

* :mod:`.processes`: the one process manager of every local server (start in
  its own session with a log and a pid file, wait for ready with a bound,
  stop by pid, kill, status, log tail); :mod:`.ports`: free local ports.
* :mod:`.saio`: a real local Swift All-In-One (``zaqar-swift-saio``), with a
  fault-injection filter in its proxy (:mod:`.saio.faults`).
* :mod:`.keystone`: a real local Keystone (the ``keystone-test`` extra).
* :mod:`.api`: a zaqar-swift-api process.
"""
