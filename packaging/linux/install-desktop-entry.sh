#!/bin/sh
# citytwin from the .tar.xz: add it to this user's application menu and let double-clicked city files open in it.
#   ./install-desktop-entry.sh            install for the current user (~/.local/share)
#   ./install-desktop-entry.sh --remove   undo that
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
done=installed
if [ "${1:-}" = "--remove" ]; then
    done=removed
    rm -f "$data/applications/citytwin.desktop" "$data/mime/packages/citytwin.xml" \
        "$data/icons/hicolor/256x256/apps/citytwin.png" "$data/icons/hicolor/scalable/apps/citytwin.svg"
else
    mkdir -p "$data/applications" "$data/mime/packages" "$data/icons/hicolor/256x256/apps" \
        "$data/icons/hicolor/scalable/apps"
    sed -e "s|^Exec=citytwin|Exec=\"$here/citytwin\"|" -e "s|^TryExec=citytwin|TryExec=$here/citytwin|" \
        "$here/share/applications/citytwin.desktop" > "$data/applications/citytwin.desktop"
    cp "$here/share/mime/packages/citytwin.xml" "$data/mime/packages/citytwin.xml"
    cp "$here/share/icons/hicolor/256x256/apps/citytwin.png" "$data/icons/hicolor/256x256/apps/citytwin.png"
    cp "$here/share/icons/hicolor/scalable/apps/citytwin.svg" "$data/icons/hicolor/scalable/apps/citytwin.svg"
fi
command -v update-mime-database >/dev/null 2>&1 && update-mime-database "$data/mime" || true
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data/applications" || true
echo "citytwin: desktop entry $done in $data"
