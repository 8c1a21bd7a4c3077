# bash completion for banger-signal(8)

_banger_signal() {
    local cur prev
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}

    case $prev in
        --signal)
            COMPREPLY=($(compgen -W 'TERM KILL INT HUP QUIT USR1 USR2 ABRT' -- "${cur^^}"))
            return ;;
        --pid)
            # Offer running pids; banger-signal itself decides which are VMs.
            COMPREPLY=($(compgen -W "$(command ls /proc 2>/dev/null | command grep -E '^[1-9][0-9]*$')" -- "$cur"))
            return ;;
        --config)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --wait|--kill-after)
            COMPREPLY=($(compgen -W '1 5 10 30' -- "$cur"))
            return ;;
        --door)
            COMPREPLY=($(compgen -W 'auto socket pkexec' -- "$cur"))
            return ;;
    esac

    COMPREPLY=($(compgen -W '--pid --signal --dry-run --json --config --verbose
        --wait --kill-after --door --all --list --doctor --serve --help --version' -- "$cur"))
}

complete -F _banger_signal banger-signal
