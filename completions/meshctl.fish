# fish completion for meshctl. Install: meshctl completion fish | source, or save it as
# ~/.config/fish/completions/meshctl.fish
#
# The script knows no verb or flag: it asks meshctl itself, `meshctl __complete ARGS… WORD`, which
# answers from its command tree and from the clusters (contexts, namespaces, pods, Services) —
# one candidate a line, a TAB before any description, then ":DIRECTIVE", the sum of
# 1 (ignore the answer), 2 (no space after it), 4 (no file names), 16 (directories only).

function __meshctl_complete
    set -l tokens (commandline -opc)
    set -l word (commandline -ct)
    set -l out ($tokens[1] __complete $tokens[2..-1] "$word" 2>/dev/null)
    or return
    set -l directive (string replace -r '^:' '' -- $out[-1])
    set -e out[-1]
    string match -qr '^[0-9]+$' -- $directive
    or return
    test (math "$directive % 2") -eq 1
    and return
    if test (count $out) -gt 0
        printf '%s\n' $out
    else if test (math "floor($directive / 16) % 2") -eq 1
        __fish_complete_directories "$word"
    else if test (math "floor($directive / 4) % 2") -eq 0
        __fish_complete_path "$word"
    end
end

complete -c meshctl -e
complete -c meshctl -f -a '(__meshctl_complete)'
