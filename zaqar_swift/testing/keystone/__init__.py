"""A real local Keystone (the ``keystone-test`` extra), for the functional
tests and for trying the API with Keystone on one machine.

:class:`LocalKeystone` and :class:`Credentials` live in :mod:`.local`;
:mod:`.launch` sets up and serves Keystone in its own process.
``python -m zaqar_swift.testing.keystone start|stop`` runs Keystone with a
Keystone-backed local Swift.
"""
from zaqar_swift.testing.keystone.local import Credentials, LocalKeystone

__all__ = ['Credentials', 'LocalKeystone']
