"""``python -m outreach.cli``: the same as the ``outreach`` command."""

import sys

from outreach.cli import main

sys.exit(main())
