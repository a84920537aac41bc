"""The frozen app's entry point: the ``citytwin`` command, the same as ``python -m citytwin``.

No subcommand (or only file paths) opens the window; ``citytwin info …``,
``citytwin snapshot …`` and the other subcommands run without one. With
``CITYTWIN_BUNDLE_CHECK=1`` in the environment it runs :mod:`bundle_check` instead
(used by ``make package-test``).
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    """Run citytwin (or the bundle self-check); returns the exit status."""
    if os.environ.get("CITYTWIN_BUNDLE_CHECK") == "1":
        import bundle_check

        return bundle_check.main()
    from citytwin.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
