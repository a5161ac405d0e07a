<#
.SYNOPSIS
  Build out\fedgui-<version>-setup.exe, the per-user Windows installer, on a Windows machine.

.DESCRIPTION
  1. Downloads the official CPython for Windows from the "python" NuGet package (published by the
     CPython release team with the same binaries as python.org's installer). Unlike the
     "embeddable" zip it has venv and ensurepip, which fedgui needs: compute packages with a
     python_env get a venv made from this interpreter. It is private to fedgui (no registry
     entries, not on PATH) and lives in <install dir>\python.
  2. Installs fedgui and its wheels (PySide6-Essentials, pyqtgraph, numpy, grpcio, ...) from PyPI
     into that interpreter's site-packages, and the icons and the bundled example into
     python\share\fedgui\resources (where fedgui.core.resources looks).
  3. Renders fedgui.ico from resources\icons\app.svg, runs "fedgui gui --self-check" with the
     payload's own python.exe, then compiles installers\windows\fedgui.nsi with makensis.

  Needs: Windows 10/11 x64, PowerShell 5.1+, network access to nuget.org and PyPI, NSIS 3
  (winget install NSIS.NSIS, or choco install nsis). No administrator rights.

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File installers\windows\build.ps1
  powershell -ExecutionPolicy Bypass -File installers\windows\build.ps1 -PythonVersion 3.11.9 -OutDir C:\out
#>
param(
  # Any 3.10-3.12 release on nuget.org/packages/python. 3.11 matches the Linux build (and the
  # PySide6 6.11.3 pin: 6.12.0 crashes on 3.11).
  [string]$PythonVersion = "3.11.9",
  [string]$OutDir = "",
  [string]$Makensis = ""
)
$ErrorActionPreference = "Stop"
$ProgressPreference = "SilentlyContinue"  # Invoke-WebRequest is 10x slower with the progress bar

$repo = (Resolve-Path (Join-Path $PSScriptRoot "..\..")).Path
if (-not $OutDir) { $OutDir = Join-Path $repo "out" }
$match = Select-String -Path (Join-Path $repo "fedgui\__init__.py") -Pattern '^__version__ = "(.*)"'
if (-not $match) { throw "no __version__ in fedgui\__init__.py" }
$version = $match.Matches[0].Groups[1].Value
# VIProductVersion wants four numbers: 0.1.0 -> 0.1.0.0, 1.2.0rc1 -> 1.2.0.0
$numbers = @([regex]::Matches($version, '\d+') | ForEach-Object { $_.Value } | Select-Object -First 3)
while ($numbers.Count -lt 4) { $numbers += "0" }
$viVersion = ($numbers[0..3] -join ".")

if (-not $Makensis) {
  $onPath = Get-Command makensis.exe -ErrorAction SilentlyContinue
  if ($onPath) { $Makensis = $onPath.Source }
  else { $Makensis = Join-Path ${env:ProgramFiles(x86)} "NSIS\makensis.exe" }
}
if (-not (Test-Path $Makensis)) { throw "makensis not found: install NSIS 3 (winget install NSIS.NSIS) or pass -Makensis" }

$work = Join-Path ([System.IO.Path]::GetTempPath()) ("fedgui-win-" + [guid]::NewGuid().ToString("N"))
$payload = Join-Path $work "payload"
$python = Join-Path $payload "python"
New-Item -ItemType Directory -Force -Path $payload, $OutDir | Out-Null
$started = Get-Date
try {
  Write-Host "== CPython $PythonVersion (NuGet package 'python')"
  $nupkg = Join-Path $work "python.zip"
  Invoke-WebRequest -UseBasicParsing -Uri "https://www.nuget.org/api/v2/package/python/$PythonVersion" -OutFile $nupkg
  Expand-Archive -Path $nupkg -DestinationPath (Join-Path $work "nuget")
  Move-Item (Join-Path $work "nuget\tools") $python
  $py = Join-Path $python "python.exe"
  & $py -c "import sys, venv, ensurepip; print(sys.version)"
  if ($LASTEXITCODE -ne 0) { throw "the downloaded Python cannot import venv/ensurepip" }

  Write-Host "== fedgui $version and its wheels into the private Python"
  & $py -m ensurepip --upgrade
  if ($LASTEXITCODE -ne 0) { throw "ensurepip failed" }
  # A clean copy of the source, so pip writes no build\ or egg-info into the repository.
  $src = Join-Path $work "src"
  New-Item -ItemType Directory -Force -Path $src | Out-Null
  Copy-Item (Join-Path $repo "pyproject.toml"), (Join-Path $repo "README.md") $src
  Copy-Item -Recurse (Join-Path $repo "fedgui") (Join-Path $src "fedgui")
  Get-ChildItem -Path $src -Recurse -Directory -Filter __pycache__ | Remove-Item -Recurse -Force
  & $py -m pip install --disable-pip-version-check --no-warn-script-location $src
  if ($LASTEXITCODE -ne 0) { throw "pip install failed" }

  Write-Host "== resources, icon"
  $share = Join-Path $python "share\fedgui\resources"
  # Replaces any copy pip put there, so Copy-Item does not nest icons\icons.
  if (Test-Path $share) { Remove-Item -Recurse -Force $share }
  New-Item -ItemType Directory -Force -Path $share | Out-Null
  Copy-Item -Recurse (Join-Path $repo "resources\icons") (Join-Path $share "icons")
  Copy-Item -Recurse (Join-Path $repo "resources\example") (Join-Path $share "example")
  Get-ChildItem -Path $share -Recurse -Directory -Filter __pycache__ | Remove-Item -Recurse -Force
  $env:QT_QPA_PLATFORM = "offscreen"
  & $py (Join-Path $repo "installers\icons.py") ico (Join-Path $repo "resources\icons\app.svg") (Join-Path $payload "fedgui.ico")
  if ($LASTEXITCODE -ne 0) { throw "icon rendering failed" }

  Write-Host "== self-check with the payload's own interpreter"
  & $py -m fedgui gui --self-check
  if ($LASTEXITCODE -ne 0) { throw "fedgui --self-check failed in the payload" }
  Remove-Item Env:QT_QPA_PLATFORM
  # Byte-code written by the self-check would name this build folder; Python rewrites it on first use.
  Get-ChildItem -Path (Join-Path $share "example") -Recurse -Directory -Filter __pycache__ | Remove-Item -Recurse -Force

  Write-Host "== makensis"
  $setup = Join-Path $OutDir "fedgui-$version-setup.exe"
  & $Makensis /V2 /WX "/DVERSION=$version" "/DVIVERSION=$viVersion" "/DPAYLOAD=$payload" "/DOUTFILE=$setup" (Join-Path $PSScriptRoot "fedgui.nsi")
  if ($LASTEXITCODE -ne 0) { throw "makensis failed" }
  $size = [math]::Round((Get-Item $setup).Length / 1MB, 1)
  $seconds = [math]::Round(((Get-Date) - $started).TotalSeconds)
  Write-Host "$setup  ($size MB, built in $seconds s)"
}
finally {
  Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
}
