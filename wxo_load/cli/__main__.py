import sys

from wxo_load.cli.main import main

sys.exit(main())
