# shellcheck shell=bash
# Kilowise toolchain library: cached Python environments on the host and in a
# Debian forky chroot (the only Python 3.14 this kind of machine can have).
#
# Source it from bash (root is required for the chroot parts):
#
#     . "$(dirname "$0")/lib/chroot.sh"
#
# Everything lives outside the clone, under KW_CACHE, so that a fresh clone
# (CI's) reuses what an earlier run built:
#
#     ${KILOWISE_CACHE:-/var/cache/kilowise}/
#       tools/uv-<key>/bin/uv        uv, pip-installed from requirements/bootstrap.txt
#       uv-cache/                    uv's download cache for host environments
#       venvs/<name>-<key>/          host virtual environments
#       chroot/forky/                the chroot (~0.3 GB, ~1.5 GB with an HA venv)
#         opt/kilowise/venvs/<name>-<key>/   chroot virtual environments
#         var/cache/uv/              uv's download cache for chroot environments
#
# Functions (logs go to stderr; results to stdout):
#
#   kw_uv_ensure
#       Print the path of the host uv binary, installing it first if needed.
#
#   kw_chroot_ensure
#       Make sure the forky chroot exists and is ready: debootstrap (minbase,
#       sid script, mirror taken from the URIs: line of
#       /etc/apt/sources.list.d/debian.sources) with python3.14, python3.14-venv
#       and ca-certificates; the host's extra CA certificates copied in and
#       update-ca-certificates run; uv copied to /usr/local/bin/uv. Installs
#       debootstrap on the host if missing. Built in a temporary folder and
#       moved into place only when complete, so a run killed mid-way leaves
#       nothing half-built behind. Reused as long as KW_CHROOT_RECIPE matches.
#
#   kw_chroot_apt_install <package...>
#       apt-get install packages into the chroot (only those not yet installed).
#
#   kw_chroot_exec <command> [args...]
#       Run a command inside the chroot, with /proc, /dev (and /dev/pts, /dev/shm),
#       /sys, /etc/resolv.conf and the repository (KW_REPO, bind-mounted at the
#       same absolute path, so host paths work unchanged) mounted. The working
#       directory is $PWD when it is inside the repository, else KW_REPO.
#       The shared/ folder beside the clone (the real data sets, as CI lays it
#       out) and any folder listed in KW_CHROOT_BINDS (space-separated) are
#       bind-mounted read-only at their own paths too.
#       The environment is reset to a small known set (HOME, PATH, LANG, TERM,
#       CI, SSL_CERT_FILE, PYTHONDONTWRITEBYTECODE, PYTHONUNBUFFERED, UV_*, and
#       every KILOWISE_* variable); prefix with `env NAME=value` to pass more.
#       Returns the command's status.
#       The mounts are made in a private mount namespace (unshare -m): they exist
#       only for the life of the command and vanish even if it is killed -9, so
#       nothing leaks into the host's mount table and concurrent callers (tests,
#       the demo) never unmount each other's /proc. The network is the host's:
#       a server started in the chroot listens on the host's 127.0.0.1.
#
#   kw_chroot_cleanup
#       Unmount anything still mounted under the chroot folder in the host's
#       namespace (left by an older tool or a manual mount). Safe to call any
#       time; use it in an EXIT trap.
#
#   kw_venv_ensure <name> <python> <requirements-file...>
#       Print the path of a virtual environment that has exactly those
#       requirement files installed (uv pip install --compile-bytecode), building
#       it if needed. <python> is a host interpreter path
#       (e.g. /root/.pyenv/versions/3.13.0/bin/python3.13) or chroot:<path>
#       (e.g. chroot:/usr/bin/python3.14), in which case the venv is built inside
#       the chroot and the printed path is the path *inside the chroot*: run it
#       with kw_chroot_exec "$venv/bin/python" ... The venv is keyed by a hash of
#       the requirement files' contents, the interpreter's path and full version
#       and KW_VENV_RECIPE: unchanged inputs reuse it, a changed pin builds a new
#       one. Venvs of the same name with other keys stay while they are used
#       (two clones with different pins can test at the same time) and are
#       removed by the next build once unused for a day. A venv counts as built
#       only once its .kilowise/complete marker exists, so a killed build is redone.
#
#   kw_env_exec <python-spec> <command> [args...]
#       Run a command on the host (host interpreter spec) or in the chroot
#       (chroot:... spec), in the repository.
#
# Example, a Home Assistant 2026.11.0 venv on Python 3.14:
#
#     kw_chroot_ensure
#     venv=$(kw_venv_ensure demo-ha2026.11 chroot:/usr/bin/python3.14 requirements/demo.txt)
#     kw_chroot_exec "$venv/bin/hass" --config "$KW_REPO/demo-config"
#
# Checking that something is ready takes no lock. Building takes a flock in
# $KW_CACHE/locks/ (tools, chroot, venv-<name>), and re-checks after waiting,
# so several scripts (tests, the demo) may share the cache at the same time.

KW_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
KW_CACHE=${KILOWISE_CACHE:-/var/cache/kilowise}
KW_CHROOT_DIR="$KW_CACHE/chroot"
KW_CHROOT="$KW_CHROOT_DIR/forky"
KW_CHROOT_VENVS=/opt/kilowise/venvs
# Bump or change to rebuild the chroot / every venv.
KW_CHROOT_RECIPE="forky via sid script, minbase, python3.14 python3.14-venv ca-certificates; v1"
KW_CHROOT_PACKAGES="python3.14,python3.14-venv,ca-certificates"
KW_VENV_RECIPE="uv pip install --compile-bytecode; v1"
KW_CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

kw_log() { printf '[kilowise] %s\n' "$*" >&2; }
kw_die() { kw_log "error: $*"; return 1; }

# kw__locked <lock> <command...>: run the command holding $KW_CACHE/locks/<lock>
# (flock; re-entrant within one process tree; inherited by its children).
kw__locked() {
    local name=$1 fd rc; shift
    case " ${KW__LOCKS_HELD:-} " in *" $name "*) "$@"; return ;; esac
    mkdir -p "$KW_CACHE/locks" || return
    exec {fd}>>"$KW_CACHE/locks/$name" || return
    flock "$fd" || { exec {fd}>&-; return 1; }
    KW__LOCKS_HELD="${KW__LOCKS_HELD:-} $name" "$@"; rc=$?
    flock -u "$fd"; exec {fd}>&-
    return "$rc"
}

# Mount points at or below $1 in this mount namespace, deepest first.
kw__mounts_under() {
    local dir=$1
    awk -v d="$dir" '{ m = $5; gsub(/\\040/, " ", m); if (m == d || index(m, d "/") == 1) print m }' \
        /proc/self/mountinfo | sort -r
}

# Unmount everything at or below $1; fail if something stays mounted.
kw__umount_under() {
    local dir=$1 m
    [ -e "$dir" ] || return 0
    dir=$(cd "$dir" && pwd -P) || return
    while IFS= read -r m; do
        [ -n "$m" ] || continue
        kw_log "unmounting stale $m"
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done < <(kw__mounts_under "$dir")
    if [ -n "$(kw__mounts_under "$dir")" ]; then
        kw_die "still mounted below $dir; not touching it"
        return 1
    fi
}

# rm -rf a folder only after making sure nothing is mounted inside it.
kw__rm_tree() {
    local dir=$1
    [ -e "$dir" ] || return 0
    kw__umount_under "$dir" || return
    rm -rf --one-file-system -- "$dir"
}

kw_chroot_cleanup() {
    [ -d "$KW_CHROOT_DIR" ] || return 0
    kw__umount_under "$KW_CHROOT_DIR"
}

# ---------------------------------------------------------------- uv (host)

kw__uv_dir() {
    local req="$KW_REPO/requirements/bootstrap.txt"
    [ -f "$req" ] || { kw_die "missing $req"; return; }
    printf '%s\n' "$KW_CACHE/tools/uv-$(sha256sum <"$req" | cut -c1-12)"
}

kw__uv_build() {
    local dir=$1 py old
    [ -e "$dir/.complete" ] && return 0
    py=${KILOWISE_BOOTSTRAP_PYTHON:-$(command -v python3 || true)}
    [ -n "$py" ] || { kw_die "no python3 on PATH to install uv with"; return; }
    kw_log "installing uv into $dir (from requirements/bootstrap.txt)"
    kw__rm_tree "$dir" || return
    mkdir -p "$KW_CACHE/tools"
    if ! { "$py" -m venv "$dir" && "$dir/bin/python" -m pip install -q -r "$KW_REPO/requirements/bootstrap.txt"; } \
        >"$KW_CACHE/tools/uv-install.log" 2>&1; then
        cat "$KW_CACHE/tools/uv-install.log" >&2
        kw_die "could not install uv"; return
    fi
    touch "$dir/.complete"
    # uv installs from older bootstrap pins, unused for a day.
    for old in "$KW_CACHE"/tools/uv-*/; do
        old=${old%/}
        [ "$old" = "$dir" ] || [ -z "$(find "$old" -maxdepth 0 -mmin +1440)" ] || kw__rm_tree "$old"
    done
}

# Print the host uv binary's path, installing uv first if needed.
kw__uv_install() {
    local dir
    dir=$(kw__uv_dir) || return
    if [ ! -e "$dir/.complete" ]; then
        kw__locked tools kw__uv_build "$dir" || return
    fi
    touch "$dir"
    printf '%s\n' "$dir/bin/uv"
}

kw_uv_ensure() { kw__uv_install; }

# ---------------------------------------------------------------- the chroot

kw__debian_mirror() {
    local uri
    uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
    if [ -z "$uri" ]; then
        uri=$(awk '$1 == "deb" && $2 !~ /^\[/ { print $2; exit } $1 == "deb" { print $3; exit }' \
            /etc/apt/sources.list 2>/dev/null)
    fi
    [ -n "$uri" ] || { kw_die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources"; return; }
    printf '%s\n' "$uri"
}

kw__host_debootstrap() {
    command -v debootstrap >/dev/null 2>&1 && return 0
    kw_log "installing debootstrap on the host (apt-get)"
    mkdir -p "$KW_CACHE"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } \
        >"$KW_CACHE/apt.log" 2>&1; then
        tail -n 20 "$KW_CACHE/apt.log" >&2
        return 1
    fi
}

kw__chroot_build() {
    local mirror build log t0
    t0=$SECONDS
    kw__host_debootstrap || { kw_die "could not install debootstrap"; return; }
    mirror=$(kw__debian_mirror) || return
    mkdir -p "$KW_CHROOT_DIR"
    # Leftovers of builds that were killed mid-way.
    for build in "$KW_CHROOT_DIR"/.build-*; do
        [ -e "$build" ] && { kw_log "removing unfinished build $build"; kw__rm_tree "$build" || return; }
    done
    build="$KW_CHROOT_DIR/.build-$$"
    log="$KW_CHROOT_DIR/debootstrap.log"
    kw_log "building Debian forky chroot in $KW_CHROOT (debootstrap, about a minute; log: $log)"
    # Private mount namespace: debootstrap's own /proc and /sys mounts die with it.
    if ! unshare --mount --propagation private -- \
        debootstrap --variant=minbase --include="$KW_CHROOT_PACKAGES" \
        forky "$build" "$mirror" /usr/share/debootstrap/scripts/sid >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        kw__rm_tree "$build"
        kw_die "debootstrap failed"; return
    fi
    rm -rf "$build/var/cache/apt/archives/"*.deb
    printf '%s\n' "$KW_CHROOT_RECIPE" >"$build/.kilowise-chroot"
    kw__rm_tree "$KW_CHROOT" || return
    mv "$build" "$KW_CHROOT"
    kw_log "chroot built in $((SECONDS - t0)) s"
}

# Is the chroot's CA store and uv binary in step with the host's? ($1: host uv)
kw__chroot_synced() {
    local crt
    [ -e "$KW_CHROOT/.kilowise-ca-done" ] || return 1
    for crt in /usr/local/share/ca-certificates/*.crt; do
        [ -f "$crt" ] || continue
        cmp -s "$crt" "$KW_CHROOT/usr/local/share/ca-certificates/${crt##*/}" || return 1
    done
    cmp -s "$1" "$KW_CHROOT/usr/local/bin/uv"
}

kw__chroot_sync() {
    local crt uv=$1
    mkdir -p "$KW_CHROOT/usr/local/share/ca-certificates"
    for crt in /usr/local/share/ca-certificates/*.crt; do
        [ -f "$crt" ] || continue
        if ! cmp -s "$crt" "$KW_CHROOT/usr/local/share/ca-certificates/${crt##*/}"; then
            cp "$crt" "$KW_CHROOT/usr/local/share/ca-certificates/"
            rm -f "$KW_CHROOT/.kilowise-ca-done"
        fi
    done
    if [ ! -e "$KW_CHROOT/.kilowise-ca-done" ]; then
        kw_log "updating the chroot's CA certificates"
        kw_chroot_exec update-ca-certificates >/dev/null 2>&1 \
            || { kw_die "update-ca-certificates failed in the chroot"; return; }
        touch "$KW_CHROOT/.kilowise-ca-done"
    fi
    cmp -s "$uv" "$KW_CHROOT/usr/local/bin/uv" || install -m 0755 "$uv" "$KW_CHROOT/usr/local/bin/uv"
}

kw__chroot_recipe_ok() {
    [ "$(cat "$KW_CHROOT/.kilowise-chroot" 2>/dev/null)" = "$KW_CHROOT_RECIPE" ]
}

kw__chroot_ensure_locked() {
    local uv=$1
    if ! kw__chroot_recipe_ok; then
        kw__chroot_build || return
    fi
    kw__chroot_synced "$uv" || kw__chroot_sync "$uv"
}

kw_chroot_ensure() {
    [ "$(id -u)" = 0 ] || { kw_die "the chroot needs root"; return; }
    local uv
    kw_chroot_cleanup || return
    uv=$(kw__uv_install) || return
    kw__chroot_recipe_ok && kw__chroot_synced "$uv" && return 0
    kw__locked chroot kw__chroot_ensure_locked "$uv"
}

kw_chroot_exec() {
    [ $# -gt 0 ] || { kw_die "kw_chroot_exec: no command"; return; }
    [ -e "$KW_CHROOT/.kilowise-chroot" ] || { kw_die "no chroot at $KW_CHROOT (call kw_chroot_ensure)"; return; }
    local cwd=$KW_REPO b v binds=() extra_env=()
    case "$PWD/" in "$KW_REPO"/*) cwd=$PWD ;; esac
    # shared/ beside the clone (the real data sets), plus KW_CHROOT_BINDS, read-only.
    [ -d "${KW_REPO%/*}/shared" ] && binds+=("${KW_REPO%/*}/shared")
    for b in ${KW_CHROOT_BINDS:-}; do
        [ -d "$b" ] && binds+=("$(cd "$b" && pwd -P)")
    done
    for v in $(compgen -e); do
        case $v in KILOWISE_*) extra_env+=("$v=${!v}") ;; esac
    done
    KW_CHROOT_PATH=$KW_CHROOT_PATH KW__BINDS=$(printf '%s\n' "${binds[@]}") \
    unshare --mount --propagation private -- /bin/bash -c '
        set -e
        root=$1 repo=$2 cwd=$3; shift 3
        mount -t proc proc "$root/proc"
        mount --rbind /dev "$root/dev"
        if ! mountpoint -q "$root/dev/pts"; then
            mkdir -p "$root/dev/pts"
            mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
        fi
        mount --rbind /sys "$root/sys"
        [ -e "$root/etc/resolv.conf" ] && [ ! -L "$root/etc/resolv.conf" ] || { rm -f "$root/etc/resolv.conf"; touch "$root/etc/resolv.conf"; }
        mount --bind /etc/resolv.conf "$root/etc/resolv.conf"
        mkdir -p "$root$repo"
        mount --bind "$repo" "$root$repo"
        while IFS= read -r b; do
            [ -n "$b" ] || continue
            mkdir -p "$root$b"
            mount --bind "$b" "$root$b"
            mount -o remount,bind,ro "$root$b"
        done <<<"$KW__BINDS"
        envs=()
        while [ "$1" != -- ]; do envs+=("$1"); shift; done
        shift
        set +e
        exec chroot "$root" /usr/bin/env -i \
            HOME=/root PATH="$KW_CHROOT_PATH" LANG=C.UTF-8 TERM="${TERM:-dumb}" \
            CI="${CI:-}" SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
            REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
            PYTHONDONTWRITEBYTECODE="${PYTHONDONTWRITEBYTECODE:-}" PYTHONUNBUFFERED=1 \
            UV_CACHE_DIR=/var/cache/uv UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1 \
            "${envs[@]}" \
            /bin/sh -c '\''cd "$1" && shift && exec "$@"'\'' sh "$cwd" "$@"
    ' kw-chroot "$KW_CHROOT" "$KW_REPO" "$cwd" "${extra_env[@]}" -- "$@"
}

kw_chroot_apt_install() {
    local missing=() p
    for p in "$@"; do
        kw_chroot_exec dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    kw_log "apt-get install in the chroot: ${missing[*]}"
    kw__locked chroot kw_chroot_exec env DEBIAN_FRONTEND=noninteractive sh -c \
        'apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" && apt-get clean' \
        sh "${missing[@]}" >&2
}

# ---------------------------------------------------------------- venvs

# kw_env_exec <python-spec> <command...>: host or chroot, in the repository.
kw_env_exec() {
    local spec=$1; shift
    case "$spec" in
        chroot:*) kw_chroot_exec "$@" ;;
        *) (cd "$KW_REPO" && "$@") ;;
    esac
}

kw__venv_build() {
    local name=$1 spec=$2 python=$3 dir=$4 host_dir=$5 pyver=$6; shift 6
    local uv f t0=$SECONDS rc old used log="$KW_CACHE/venv-$name.log"
    # Another process may have built it while this one waited for the lock.
    [ -e "$host_dir/.kilowise/complete" ] && return 0
    uv=$(kw__uv_install) || return
    [[ $spec == chroot:* ]] && uv=/usr/local/bin/uv
    kw_log "building venv $name ($pyver) from: ${*##*/}"
    kw__rm_tree "$host_dir" || return
    mkdir -p "$(dirname "$host_dir")" "$KW_CACHE/uv-cache"
    (
        export UV_CACHE_DIR="$KW_CACHE/uv-cache" UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1
        export SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
        kw_env_exec "$spec" "$uv" venv --quiet --no-project --python "$python" "$dir" || exit
        mkdir -p "$host_dir/.kilowise/requirements"
        args=()
        for f in "$@"; do
            cp "$f" "$host_dir/.kilowise/requirements/"
            args+=(-r "$dir/.kilowise/requirements/${f##*/}")
        done
        kw_env_exec "$spec" "$uv" pip install --python "$dir/bin/python" --compile-bytecode "${args[@]}" || exit
        kw_env_exec "$spec" "$uv" pip freeze --python "$dir/bin/python" >"$host_dir/.kilowise/freeze.txt"
    ) >"$log" 2>&1
    rc=$?
    if [ $rc -ne 0 ]; then
        tail -n 40 "$log" >&2
        kw__rm_tree "$host_dir"
        kw_die "building venv $name failed (log: $log)"; return
    fi
    touch "$host_dir/.kilowise/complete" "$host_dir/.kilowise/last-used"
    kw_log "venv $name built in $((SECONDS - t0)) s: $dir"
    # Venvs of this name from other pins, unused for a day (a run that uses one,
    # e.g. from a clone with other pins, touched it when it started).
    for old in "$(dirname "$host_dir")/$name"-*/; do
        old=${old%/}
        [ "${old##*/}" != "${host_dir##*/}" ] || continue
        [[ ${old##*/} =~ ^.+-[0-9a-f]{12}$ ]] && [ "${old##*/}" = "$name-${old##*-}" ] || continue
        used=$(stat -c %Y "$old/.kilowise/last-used" 2>/dev/null || stat -c %Y "$old") || continue
        [ $(($(date +%s) - used)) -gt 86400 ] || continue
        kw_log "removing venv ${old##*/} (other pins, unused for a day)"
        kw__rm_tree "$old"
    done
}

kw_venv_ensure() {
    [ $# -ge 3 ] || { kw_die "usage: kw_venv_ensure <name> <python> <requirements...>"; return; }
    local name=$1 spec=$2 python dir host_dir key pyver f; shift 2
    for f in "$@"; do [ -f "$f" ] || { kw_die "no requirement file $f"; return; }; done
    case "$spec" in
        chroot:*) python=${spec#chroot:}; kw_chroot_ensure || return ;;
        *) python=$spec ;;
    esac
    pyver=$(kw_env_exec "$spec" "$python" -c 'import sys, platform; print(sys.version.replace("\n", " "), platform.machine())') \
        || { kw_die "cannot run $spec"; return; }
    key=$( {
        printf 'recipe %s\npython %s %s\n' "$KW_VENV_RECIPE" "$python" "$pyver"
        for f in "$@"; do printf '== %s\n' "${f##*/}"; cat "$f"; done
    } | sha256sum | cut -c1-12)
    if [[ $spec == chroot:* ]]; then
        dir="$KW_CHROOT_VENVS/$name-$key"; host_dir="$KW_CHROOT$dir"
    else
        dir="$KW_CACHE/venvs/$name-$key"; host_dir=$dir
    fi
    if [ ! -e "$host_dir/.kilowise/complete" ]; then
        kw__locked "venv-$name" kw__venv_build "$name" "$spec" "$python" "$dir" "$host_dir" "$pyver" "$@" || return
    fi
    touch "$host_dir/.kilowise/last-used"
    printf '%s\n' "$dir"
}

# kw_project_venv <version> [python]: the project's environment for one Home
# Assistant line (requirements/test-ha<version>.txt, model_builder.txt and
# dev.txt), built on first use; prints its path. Python 3.13 by default
# (KILOWISE_PYTHON313, else pyenv's, else python3.13 on PATH).
kw_project_venv() {
    local version=$1 spec=${2:-${KILOWISE_PYTHON313:-/root/.pyenv/versions/3.13.0/bin/python3.13}}
    [ $# -ge 2 ] || [ -x "$spec" ] || spec=$(command -v python3.13 || echo "$spec")
    kw_venv_ensure "ha$version" "$spec" "$KW_REPO/requirements/test-ha$version.txt" \
        "$KW_REPO/requirements/model_builder.txt" "$KW_REPO/requirements/dev.txt"
}
