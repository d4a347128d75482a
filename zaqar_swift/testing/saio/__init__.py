"""A real local Swift All-In-One (Swift from PyPI), for development and tests.

:class:`LocalSwift` (:mod:`.local`) runs the cluster; :mod:`.config` writes
its rings and configuration files, :mod:`.launch` runs each Swift process
against its own swift_dir, :mod:`.cache` stands in for memcached, and
:mod:`.updater` keeps listings fresh. ``python -m zaqar_swift.testing.saio``
is the ``zaqar-swift-saio`` command.
"""
from zaqar_swift.testing.saio.local import LocalSwift

__all__ = ['LocalSwift']
