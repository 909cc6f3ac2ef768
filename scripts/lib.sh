# Shared by scripts/run, scripts/test, scripts/bench and .ci/run (sourced, not run).
# Owns: the package lists and the "install what is missing" step.

BUILD_PKGS=(meson ninja-build pkg-config gcc libevent-dev libjansson-dev libwslay-dev
            libssl-dev check liblzf-dev clang-format liblua5.1-0-dev lua-cjson-dev
            lua-bitop liburing-dev)
TEST_PKGS=(redis-server redis-tools python3-redis python3-pytest python3-pytest-timeout
           python3-websocket webdis wrk curl chromium lua-cjson-dev
           python3-msgpack libnss3-tools python3-rq python3-celery)

_as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

pkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# apt_install PKG...: install with no prompts, without letting a package's
# postinst start its service (redis-server would take port 6379).
apt_install() {
    local policy=/usr/sbin/policy-rc.d made_policy=0 rc=0
    if [ ! -e "$policy" ]; then
        _as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod +x $policy" && made_policy=1
    fi
    _as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" || rc=$?
    if [ "$made_policy" = 1 ]; then _as_root rm -f "$policy"; fi
    return $rc
}

# ensure_packages PKG...: apt-get update once and install only what is missing.
ensure_packages() {
    local missing=() p
    for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing missing packages: ${missing[*]}" >&2
    _as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    apt_install "${missing[@]}" >&2
}

# node/npm may come from elsewhere (NodeSource); install Debian's only if absent.
ensure_node() {
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        ensure_packages nodejs npm
    fi
}

# Debian's interpreter: the python3 first on PATH may lack python3-redis/pytest.
PY=/usr/bin/python3
