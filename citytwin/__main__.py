"""``python -m citytwin``."""

from citytwin.cli import main

raise SystemExit(main())
