"""``python -m zaqar_swift.testing.keystone start|stop``."""
import sys

from zaqar_swift.testing.keystone.cli import main

sys.exit(main())
