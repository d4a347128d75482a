"""``python -m zaqar_swift.testing.saio``: the ``zaqar-swift-saio`` command."""
import sys

from zaqar_swift.testing.saio.cli import main

sys.exit(main())
