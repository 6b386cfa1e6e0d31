"""`python -m lms` is the `lms` command."""

from lms.cli import main

main()
