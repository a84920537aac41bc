; citytwin installer for Windows (NSIS 3), made from the PyInstaller onedir bundle dist\citytwin\.
;
;   .venv\Scripts\python packaging\build.py      (PyInstaller, then this script when makensis is on PATH)
;   makensis /DVERSION=0.1.0 /DICON=build\citytwin.ico packaging\windows\citytwin.nsi
;
; Installs to "Program Files\citytwin" for all users: citytwin-gui.exe (the window, no console) and citytwin.exe
; (the same program for the command line: citytwin info, snapshot, render ...), a Start-menu shortcut, "Open with"
; entries for .gml, .las and .laz, citytwin as the program of .citytwin projects, and an uninstaller.
; Windows associates by the last extension only, so .city.json and .city.jsonl files get "Open with citytwin"
; through .json and .jsonl. Not built or tried here (no Windows machine); see packaging/README.md.

Unicode true
!include "MUI2.nsh"
!include "FileFunc.nsh"

!ifndef VERSION
  !error "Pass the version from pyproject.toml: makensis /DVERSION=x.y.z packaging\windows\citytwin.nsi"
!endif
!define BUNDLE "..\..\dist\citytwin"
!define GUI "citytwin-gui.exe"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\citytwin"
!define APP_PATHS "Software\Microsoft\Windows\CurrentVersion\App Paths"

Name "citytwin ${VERSION}"
OutFile "..\..\dist\citytwin-${VERSION}-windows-x64-setup.exe"
InstallDir "$PROGRAMFILES64\citytwin"
InstallDirRegKey HKLM "Software\citytwin" "InstallDir"
RequestExecutionLevel admin
SetCompressor /SOLID lzma
!ifdef ICON
  !define MUI_ICON "..\..\${ICON}"
  !define MUI_UNICON "..\..\${ICON}"
!endif

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_LICENSE "..\..\LICENSE"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_RUN "$INSTDIR\${GUI}"
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

; A file type that citytwin opens: its ProgID, icon and open command, offered under "Open with" for .EXT.
!macro Associate EXT PROGID DESCRIPTION
  WriteRegStr HKLM "Software\Classes\${PROGID}" "" "${DESCRIPTION}"
  WriteRegStr HKLM "Software\Classes\${PROGID}\DefaultIcon" "" "$INSTDIR\${GUI},0"
  WriteRegStr HKLM "Software\Classes\${PROGID}\shell\open\command" "" '"$INSTDIR\${GUI}" "%1"'
  WriteRegStr HKLM "Software\Classes\.${EXT}\OpenWithProgids" "${PROGID}" ""
  WriteRegStr HKLM "Software\Classes\Applications\${GUI}\SupportedTypes" ".${EXT}" ""
!macroend

!macro Dissociate EXT PROGID
  DeleteRegValue HKLM "Software\Classes\.${EXT}\OpenWithProgids" "${PROGID}"
  DeleteRegKey HKLM "Software\Classes\${PROGID}"
!macroend

Section "citytwin" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  RMDir /r "$INSTDIR\_internal"  ; an older version's files must not mix with this one's
  File /r "${BUNDLE}\*.*"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateShortCut "$SMPROGRAMS\citytwin.lnk" "$INSTDIR\${GUI}" "" "$INSTDIR\${GUI}" 0
  WriteRegStr HKLM "Software\citytwin" "InstallDir" "$INSTDIR"
  WriteRegStr HKLM "${APP_PATHS}\citytwin.exe" "" "$INSTDIR\citytwin.exe"
  WriteRegStr HKLM "${APP_PATHS}\${GUI}" "" "$INSTDIR\${GUI}"

  !insertmacro Associate "gml" "citytwin.CityGML" "CityGML city model"
  !insertmacro Associate "las" "citytwin.LAS" "LAS point cloud"
  !insertmacro Associate "laz" "citytwin.LAZ" "LAZ point cloud"
  !insertmacro Associate "json" "citytwin.CityJSON" "CityJSON city model (.city.json)"
  !insertmacro Associate "jsonl" "citytwin.CityJSONSeq" "CityJSON Text Sequence (.city.jsonl)"
  !insertmacro Associate "citytwin" "citytwin.Project" "citytwin project"
  WriteRegStr HKLM "Software\Classes\.citytwin" "" "citytwin.Project"  ; projects are citytwin's own: open them

  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayName" "citytwin"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "Publisher" "citytwin developers"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\${GUI},0"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "EstimatedSize" $0
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'  ; SHCNE_ASSOCCHANGED
SectionEnd

Section "Uninstall"
  !insertmacro Dissociate "gml" "citytwin.CityGML"
  !insertmacro Dissociate "las" "citytwin.LAS"
  !insertmacro Dissociate "laz" "citytwin.LAZ"
  !insertmacro Dissociate "json" "citytwin.CityJSON"
  !insertmacro Dissociate "jsonl" "citytwin.CityJSONSeq"
  !insertmacro Dissociate "citytwin" "citytwin.Project"
  DeleteRegKey HKLM "Software\Classes\.citytwin"
  DeleteRegKey HKLM "Software\Classes\Applications\${GUI}"
  DeleteRegKey HKLM "${APP_PATHS}\citytwin.exe"
  DeleteRegKey HKLM "${APP_PATHS}\${GUI}"
  DeleteRegKey HKLM "${UNINSTALL_KEY}"
  DeleteRegKey HKLM "Software\citytwin"
  Delete "$SMPROGRAMS\citytwin.lnk"
  RMDir /r "$INSTDIR"
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'
SectionEnd
