"""`python -m wxo_load.mock`: the same as `wxo-load mock`."""

from __future__ import annotations

import sys

from wxo_load.mock.cli import main

if __name__ == "__main__":
    sys.exit(main())
