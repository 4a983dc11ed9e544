"""`python -m newsdiff`."""

from .cli import main

main()
