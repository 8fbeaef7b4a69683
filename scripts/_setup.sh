# Shared by run-demo and run-tests: installs what is missing, quietly, and nothing twice.
# Usage: source scripts/_setup.sh; ensure_apt PKG...; ensure_venv EXTRAS
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${BRONCO_VENV:-$ROOT/.venv}"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  fi
}

ensure_venv() {
  local extras="$1"
  if ! python3 -c "import venv, ensurepip" 2>/dev/null; then
    ensure_apt python3-venv
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    echo "Creating the virtual environment in $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip >"$VENV/pip.log" 2>&1 || { cat "$VENV/pip.log"; exit 1; }
  fi
  # Reinstall only when the dependencies changed.
  local stamp="$VENV/.bronco-installed"
  local want
  want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1) $extras"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "Installing Bronco Station and its Python dependencies ($extras)"
    if ! "$VENV/bin/python" -m pip install -q -e "$ROOT[$extras]" >"$VENV/pip.log" 2>&1; then
      cat "$VENV/pip.log" >&2
      exit 1
    fi
    "$VENV/bin/python" -c "import bronco" # fail here if the install did not work
    echo "$want" > "$stamp"
  fi
}

# Kivy renders through Mesa EGL, also offscreen; libmtdev1 avoids a touch-input traceback.
KIVY_APT=(libegl1 libegl-mesa0 libgbm1 libgl1 libgl1-mesa-dri libmtdev1)
# The kiosk speaks with espeak-ng, draws pictograms from Debian's Material Design Icons font and
# reads the headphone jack with amixer (alsa-utils).
KIOSK_APT=(espeak-ng fonts-materialdesignicons-webfont alsa-utils)
