"""``python -m poddarkiv`` runs the command-line interface."""

from poddarkiv.cli import main

if __name__ == "__main__":
    main()
