import sys

from local.host.cli import main

sys.exit(main())
