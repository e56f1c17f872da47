"""``python -m stabkit``: the command line."""

import sys

from stabkit.cli import main

sys.exit(main())
