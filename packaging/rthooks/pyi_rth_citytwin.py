"""PyInstaller runtime hook: point PROJ at the bundle's own proj.db before anything imports pyproj.

pyproj already prefers its package-relative data folder, which the bundle carries
(``_internal/pyproj/proj_dir/share/proj``); setting ``PROJ_DATA`` as well makes PROJ
itself, and anything else that reads the variable, use the same database, and keeps a
``PROJ_DATA``/``PROJ_LIB`` of another PROJ version on the user's machine (an older
proj.db breaks every CRS lookup) out of the bundle. Network access stays off.
"""

import os
import sys

_proj = os.path.join(getattr(sys, "_MEIPASS", os.path.dirname(sys.executable)), "pyproj", "proj_dir", "share", "proj")
if os.path.isfile(os.path.join(_proj, "proj.db")):
    os.environ["PROJ_DATA"] = _proj
    os.environ.pop("PROJ_LIB", None)
