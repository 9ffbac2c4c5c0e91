# bash completion for lease(1) and leasesim(1); installed by `make install`
# into share/bash-completion/completions/.
_lease() {
    local current=${COMP_WORDS[COMP_CWORD]} previous=${COMP_WORDS[COMP_CWORD-1]}
    local commands="run acquire release renew inspect"
    local common="--lease --impl --json --help"
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "$commands --help --version" -- "$current"))
        return
    fi
    local word
    for word in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
        [[ $word == -- ]] && { COMPREPLY=($(compgen -c -- "$current")); return; }
    done
    case $previous in
        --lease|--result) COMPREPLY=($(compgen -f -- "$current")); return ;;
        --impl) COMPREPLY=($(compgen -W "lease neo-v1 neo-v2" -- "$current")); return ;;
        --wait|-w) COMPREPLY=($(compgen -W "forever" -- "$current")); return ;;
        --owner|--reason|--ttl-ms|--token|--pid|--held-exit|-E|--json-fd) return ;;
    esac
    local options=$common
    case ${COMP_WORDS[1]} in
        run) options+=" --owner --reason --ttl-ms --held-exit --quiet --wait --nonblock --result --json-fd --" ;;
        acquire) options+=" --owner --reason --ttl-ms --pid --wait --nonblock" ;;
        release) options+=" --token" ;;
        renew) options+=" --token --ttl-ms" ;;
    esac
    COMPREPLY=($(compgen -W "$options" -- "$current"))
}
complete -F _lease lease

_leasesim() {
    local current=${COMP_WORDS[COMP_CWORD]} previous=${COMP_WORDS[COMP_CWORD-1]}
    case $previous in
        --scenario|--trace|--svg|--summary|--merge|--history) COMPREPLY=($(compgen -f -- "$current")); return ;;
        --strategy) COMPREPLY=($(compgen -W "pos random pct exhaustive" -- "$current")); return ;;
        --impl) COMPREPLY=($(compgen -W "$(leasesim --list-impls 2>/dev/null | awk '{print $1}')" -- "$current")); return ;;
    esac
    COMPREPLY=($(compgen -W "--impl --scenario --seed --seeds --strategy --pct-depth --trace --svg --shard
        --summary --drop --no-shrink --quiet --list-impls --merge --zoo --bench --check --determinism --help
        --history --version" -- "$current"))
}
complete -F _leasesim leasesim
