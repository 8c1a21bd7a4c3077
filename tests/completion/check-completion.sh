#!/bin/bash
# The bash completion offers every option of --help and the allowed signal
# names (and only those) after --signal. Usage: check-completion.sh COMPLETION BINARY
set -u
completion=$1 binary=$2
source "$completion" || exit 1
fail=0

complete_words() {  # complete_words WORD... : prints COMPREPLY for the last word
    COMP_WORDS=(banger-signal "$@")
    COMP_CWORD=$#
    COMPREPLY=()
    _banger_signal
    printf '%s\n' "${COMPREPLY[@]}" | sort
}

# Every long option of --help is offered (and nothing that is not an option).
expected=$("$binary" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u)
offered=$(complete_words '--' | sort -u)
if [ "$expected" != "$offered" ]; then
    echo "options differ: --help has"; echo "$expected"; echo "completion offers"; echo "$offered"; fail=1
fi

# Signal names: exactly the allowlist, case-insensitively prefixed.
signals=$(complete_words --pid 1 --signal '' | tr '\n' ' ')
if [ "$signals" != "ABRT HUP INT KILL QUIT TERM USR1 USR2 " ]; then
    echo "signals offered: '$signals'"; fail=1
fi
if [ "$(complete_words --signal ki)" != "KILL" ]; then
    echo "'ki' does not complete to KILL"; fail=1
fi
if [ -n "$(complete_words --signal ST)" ]; then
    echo "STOP must never be offered"; fail=1
fi
[ $fail -eq 0 ] && echo "completion ok"
exit $fail
