import sys

from modeq.cli import main

sys.exit(main())
