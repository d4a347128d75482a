"""Tools for tests and local trials: never imported by the service itself.

:mod:`zaqar_swift.testing.keystone` runs a real local Keystone (installed
with the ``keystone-test`` extra).
"""
