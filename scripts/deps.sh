# Sourced by the scripts: installs, with apt-get, each missing tool or package named in $@.
# Each item is "command-or-file:package".
runlog_install_missing() {
    local missing=() item probe pkg
    for item in "$@"; do
        probe=${item%%:*}
        pkg=${item#*:}
        if [[ $probe == /* ]]; then
            [[ -e $probe ]] && continue
        else
            command -v "$probe" >/dev/null 2>&1 && continue
        fi
        missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) && return 0
    echo "installing: ${missing[*]}" >&2
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
