# bash completion for meshctl. Install: source <(meshctl completion bash)
#
# The script knows no verb or flag: it asks meshctl itself, `meshctl __complete ARGS… WORD`, which
# answers from its command tree and from the clusters (contexts, namespaces, pods, Services) —
# one candidate a line, a TAB before any description, then ":DIRECTIVE", the sum of
# 1 (ignore the answer), 2 (no space after it), 4 (no file names), 16 (directories only).

_meshctl() {
  local words=() line
  if [[ -n ${COMP_LINE-} ]]; then
    # The words up to the cursor as typed: COMP_WORDS is cut at '=' and ':' (COMP_WORDBREAKS).
    line=${COMP_LINE:0:${COMP_POINT:-${#COMP_LINE}}}
    read -ra words <<<"$line"
    if [[ ${#words[@]} -eq 0 || $line == *[[:space:]] ]]; then
      words+=("")
    fi
  else
    words=("${COMP_WORDS[@]:0:COMP_CWORD+1}")
  fi
  local cur=${words[${#words[@]}-1]}
  local out
  out=$("${words[0]}" __completeNoDesc "${words[@]:1}" 2>/dev/null) || return 0
  local lines=()
  mapfile -t lines <<<"$out"
  local directive=${lines[${#lines[@]}-1]#:}
  unset "lines[${#lines[@]}-1]"
  [[ $directive =~ ^[0-9]+$ ]] || return 0
  ((directive & 1)) && return 0

  # Readline replaces only what follows the last word-break character of the word
  # (--dry-run=cl: "cl"), so that part of the word is taken off every candidate.
  local keep="" i
  for ((i = ${#cur} - 1; i >= 0; i--)); do
    if [[ ${COMP_WORDBREAKS-} == *"${cur:i:1}"* ]]; then
      keep=${cur:0:i+1}
      break
    fi
  done
  COMPREPLY=()
  local c
  for c in "${lines[@]}"; do
    [[ -n $c ]] && COMPREPLY+=("${c#"$keep"}")
  done
  if ((${#COMPREPLY[@]} == 0)); then
    if ((directive & 16)); then
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -d -- "$cur")
    elif ((!(directive & 4))); then
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
  fi
  if ((directive & 2)); then
    compopt -o nospace 2>/dev/null
  fi
  return 0
}
complete -F _meshctl meshctl
