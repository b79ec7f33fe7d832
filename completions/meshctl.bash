# bash completion for meshctl. Install: source <(meshctl completion bash)
# Completes verbs, flags, output formats and kubeconfig context names.

_meshctl_contexts() {
  local kc=()
  local i
  for ((i = 1; i < COMP_CWORD; i++)); do
    if [[ ${COMP_WORDS[i]} == --kubeconfig ]]; then kc=(--kubeconfig "${COMP_WORDS[i + 1]}"); fi
  done
  "${COMP_WORDS[0]}" "${kc[@]}" __contexts 2>/dev/null
}

_meshctl() {
  local cur prev verb i
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD - 1]}"
  local verbs="join unjoin expose localize sync-svc verify proxy-config version config completion help"
  local global_flags="--kubeconfig --config -c --output -o --verbose -v --no-color --timeout --help -h"

  verb=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      --kubeconfig | --config | -c | --output | -o | --timeout | --context | --from | --to | --namespace | -n | --selector | -l | --exclude-namespace | --concurrency | --output-dir | --by | --fail-on | --save-bundle | --from-bundle | -f | --file) ((i++)) ;;
      -*) ;;
      *) verb="${COMP_WORDS[i]}"; break ;;
    esac
  done

  case "$prev" in
    --output | -o) mapfile -t COMPREPLY < <(compgen -W "table wide yaml json" -- "$cur"); return ;;
    --kubeconfig | --config | -c | --output-dir | -f | --file) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
    --context | --from | --to) mapfile -t COMPREPLY < <(compgen -W "$(_meshctl_contexts)" -- "$cur"); return ;;
    --by) mapfile -t COMPREPLY < <(compgen -W "cluster network zone" -- "$cur"); return ;;
  esac

  local flags="$global_flags"
  local words=""
  case "$verb" in
    "") words="$verbs" ;;
    join) flags+=" --context --dry-run --output-dir --show-secrets --force-ca --restart-istiod --no-restart-istiod"; words="$(_meshctl_contexts)" ;;
    unjoin) flags+=" --context --all --purge-ca --dry-run"; words="$(_meshctl_contexts)" ;;
    expose) flags+=" --context --namespace -n --all --remove --force --dry-run --output-dir" ;;
    localize) flags+=" --context --namespace -n --by --remove --force --dry-run --output-dir" ;;
    sync-svc) flags+=" --context --namespace -n -A --all-namespaces --selector -l --exclude-namespace --from --to --dry-run --no-prune --no-create-namespace --concurrency --watch" ;;
    verify) flags+=" --context --namespace -n --from --fail-on --save-bundle --from-bundle" ;;
    proxy-config | pc) words="listener endpoints eds clusters"; flags+=" --context --namespace -n -f --file --port --address --type --cluster --status" ;;
    version) flags+=" --context --client" ;;
    config) words="view" ;;
    completion) words="bash zsh fish" ;;
    help) words="$verbs" ;;
  esac
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$flags" -- "$cur")
  else
    mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
  fi
}
complete -F _meshctl meshctl
