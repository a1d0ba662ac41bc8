"""python -m gendiff: the study's command line (gendiff.study.cli)."""
import sys

from .study.cli import main

if __name__ == "__main__":
    sys.exit(main())
