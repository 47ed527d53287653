#!/usr/bin/env bash
# Install the Debian/Ubuntu packages the stack needs, skipping what is already there.
# Usage: scripts/install-system.sh [--with-browser] [--with-office]
set -euo pipefail

pkgs=(
  libcairo2-dev libpango1.0-dev pkg-config          # manim's cairo/pango bindings
  texlive-latex-base texlive-latex-extra             # MathTex
  texlive-fonts-recommended texlive-science dvisvgm cm-super-minimal
  ffmpeg                                             # ffmpeg + ffprobe for pydub, assembly and checks
  espeak-ng                                          # offline narration
  flite                                              # other voices for the takes-align bench
  sox                                                # manim-voiceover's sox wrapper warns without it
  fonts-dejavu-core                                  # the course font (scenes, thumbnail)
)
for arg in "$@"; do
  case "$arg" in
    --with-browser) pkgs+=(chromium) ;;              # headless deck tests
    --with-office) pkgs+=(libreoffice-impress-nogui) ;;  # PPTX -> PDF check
    *) echo "install-system: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system: apt-get not found; install by hand: ${missing[*]} (see README)" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# apt lists go stale or are absent on fresh images: refresh once per run.
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
