; fedgui for Windows: a per-user installer (no administrator rights needed).
;
; Installs to %LOCALAPPDATA%\Programs\fedgui a private, complete CPython (from the official
; "python" NuGet package, which unlike the embeddable zip has venv and ensurepip) with fedgui and
; its wheels in its site-packages. That python.exe is the real interpreter that also runs compute
; packages and builds their environments. build.ps1 prepares the payload and runs makensis.
;
;   makensis /DVERSION=0.1.0 /DPAYLOAD=<folder> [/DOUTFILE=<setup.exe>] fedgui.nsi
;
; PAYLOAD layout:  python\pythonw.exe, python\python.exe, python\Lib\site-packages\fedgui\...,
;                  python\share\fedgui\resources\{icons,example}, fedgui.ico

Unicode true
ManifestDPIAware true
!include "MUI2.nsh"
!include "FileFunc.nsh"

!define APPNAME "fedgui"
!define PUBLISHER "fedgui contributors"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\fedgui"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!ifndef VERSION
  !error "Pass /DVERSION=x.y.z"
!endif
!ifndef PAYLOAD
  !error "Pass /DPAYLOAD=<folder with python\ and fedgui.ico> (build.ps1 makes it)"
!endif
!ifndef VIVERSION
  !define VIVERSION "${VERSION}.0"
!endif
!ifndef OUTFILE
  !define OUTFILE "fedgui-${VERSION}-setup.exe"
!endif
; The shipping compressor; tests pass /DCOMPRESSOR=zlib to compile a full payload in seconds.
!ifndef COMPRESSOR
  !define COMPRESSOR "/SOLID lzma"
!endif
; pythonw.exe: no console window. "-m fedgui" opens the desktop app.
!define LAUNCHER "$INSTDIR\python\pythonw.exe"
!define LAUNCH_ARGS "-m fedgui"
!define LOGIN_ARGS "-m fedgui gui --start --minimized"

Name "${APPNAME} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\fedgui"
InstallDirRegKey HKCU "${UNINSTALL_KEY}" "InstallLocation"
RequestExecutionLevel user
SetCompressor ${COMPRESSOR}
BrandingText "${APPNAME} ${VERSION}"

VIProductVersion "${VIVERSION}"
VIAddVersionKey "ProductName" "${APPNAME}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APPNAME} installer"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "LegalCopyright" "Apache-2.0"

!define MUI_ICON "${PAYLOAD}\fedgui.ico"
!define MUI_UNICON "${PAYLOAD}\fedgui.ico"
!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_NODESC
!define MUI_FINISHPAGE_RUN "${LAUNCHER}"
!define MUI_FINISHPAGE_RUN_PARAMETERS "${LAUNCH_ARGS}"
!define MUI_FINISHPAGE_RUN_TEXT "Open fedgui now"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Section "fedgui (required)" SecApp
  SectionIn RO
  SetShellVarContext current
  ; An upgrade replaces the whole program folder; the person's settings, history and cache live
  ; in %APPDATA%\fedgui and %LOCALAPPDATA%\fedgui and are not touched.
  RMDir /r "$INSTDIR\python"
  SetOutPath "$INSTDIR"
  File "${PAYLOAD}\fedgui.ico"
  File /r "${PAYLOAD}\python"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateShortcut "$SMPROGRAMS\fedgui.lnk" "${LAUNCHER}" "${LAUNCH_ARGS}" "$INSTDIR\fedgui.ico" 0 \
    SW_SHOWNORMAL "" "Take part in a federated-learning network"

  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${APPNAME}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\fedgui.ico"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "EstimatedSize" "$0"
  ; Without the optional section below, an earlier "start at login" choice is withdrawn.
  DeleteRegValue HKCU "${RUN_KEY}" "fedgui"
SectionEnd

; Unticked by default: starting at login is the person's choice. Re-running the installer without
; it removes the login entry again.
Section /o "Start fedgui when I log in" SecLogin
  WriteRegStr HKCU "${RUN_KEY}" "fedgui" '"${LAUNCHER}" ${LOGIN_ARGS}'
SectionEnd

Section "Uninstall"
  SetShellVarContext current
  DeleteRegValue HKCU "${RUN_KEY}" "fedgui"
  Delete "$SMPROGRAMS\fedgui.lnk"
  RMDir /r "$INSTDIR\python"
  Delete "$INSTDIR\fedgui.ico"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
SectionEnd
