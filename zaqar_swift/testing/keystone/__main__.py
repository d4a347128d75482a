"""``python -m zaqar_swift.testing.keystone start|stop``."""
import sys

from zaqar_swift.testing.keystone.local import main

sys.exit(main())
