# shellcheck shell=bash
# Helpers shared by scripts/demo and scripts/screenshot (source after chroot.sh).

# kw_demo_apt <package...>: apt-get install into the chroot, only what is
# missing. The chroot's forky mirror is a frozen copy whose Release file is
# past its Valid-Until date, so apt is told not to check that date.
kw_demo_apt() {
    local missing=() p
    for p in "$@"; do
        kw_chroot_exec dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    kw_log "apt-get install in the chroot: ${missing[*]}"
    mkdir -p "$KW_CACHE/demo"
    if ! kw__locked chroot kw_chroot_exec env DEBIAN_FRONTEND=noninteractive sh -c '
            apt-get -o Acquire::Check-Valid-Until=false update -qq &&
            apt-get install -y -qq --no-install-recommends "$@" &&
            apt-get clean' sh "${missing[@]}" >"$KW_CACHE/demo/apt.log" 2>&1; then
        tail -n 20 "$KW_CACHE/demo/apt.log" >&2
        kw_die "apt-get install ${missing[*]} failed in the chroot (log: $KW_CACHE/demo/apt.log)"
        return 1
    fi
}

# Packages of the chroot that the demo's Home Assistant environment needs:
# pymicro-vad 1.0.1 and pyspeex-noise 1.0.2 (pinned by Home Assistant
# 2026.11.0's assist_pipeline) publish no Python 3.14 wheel, so uv builds them
# from source once when the venv is made. Without pymicro_vad, Home Assistant
# cannot list its services and the frontend never finishes loading.
KW_DEMO_BUILD_PACKAGES=(g++ python3.14-dev)

# kw_demo_instance <port>: the name of the demo instance on that port:
# kilowise-demo on the default port, kilowise-demo-<port> on any other, so a
# second demo (a browser test, another clone) never touches the first one's
# configuration, pid file or log.
kw_demo_instance() {
    if [ "${1:-8123}" = 8123 ]; then echo kilowise-demo; else echo "kilowise-demo-$1"; fi
}
