"""``python -m mns``: the ``mns`` command line."""

from mns.cli import main

if __name__ == "__main__":
    main()
