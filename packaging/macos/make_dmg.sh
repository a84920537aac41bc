#!/bin/sh
# citytwin.app → dist/citytwin-<version>-macos-<arch>.dmg, on macOS after `make package` (which runs the spec's
# BUNDLE step). Not run here (no macOS machine); see packaging/README.md.
#   packaging/macos/make_dmg.sh
#   CODESIGN_IDENTITY="Developer ID Application: …" packaging/macos/make_dmg.sh   (signed; notarise the .dmg after)
set -eu
cd "$(dirname "$0")/../.."
app=dist/citytwin.app
if [ ! -d "$app" ]; then
    echo "make_dmg: $app is missing; run 'make package' on macOS first." >&2
    exit 1
fi
version=$(/usr/libexec/PlistBuddy -c "Print :CFBundleShortVersionString" "$app/Contents/Info.plist")
stage=build/dmg
rm -rf "$stage"
mkdir -p "$stage"
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
if [ -n "${CODESIGN_IDENTITY:-}" ]; then
    codesign --deep --force --options runtime --timestamp --sign "$CODESIGN_IDENTITY" "$stage/citytwin.app"
fi
out="dist/citytwin-$version-macos-$(uname -m).dmg"
rm -f "$out"
hdiutil create -volname "citytwin $version" -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$out"
rm -rf "$stage"
echo "make_dmg: $out"
