"""`python -m dogxray` is the same as the `dogxray` console script."""

from dogxray.app import main

main()
