"""`python -m indexer` runs the recall command line."""

import sys

from indexer.cli import main

sys.exit(main())
