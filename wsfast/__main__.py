"""``python -m wsfast``: see wsfast.cli."""
import sys

from wsfast.cli import main

if __name__ == "__main__":
    sys.exit(main())
