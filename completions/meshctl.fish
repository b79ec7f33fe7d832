# fish completion for meshctl. Install: meshctl completion fish > ~/.config/fish/completions/meshctl.fish

set -l verbs join expose localize sync-svc verify proxy-config version config completion
complete -c meshctl -f
complete -c meshctl -n "not __fish_seen_subcommand_from $verbs" -a join -d 'make clusters one mesh'
complete -c meshctl -n "not __fish_seen_subcommand_from $verbs" -a expose -d 'choose exposed services'
complete -c meshctl -n "not __fish_seen_subcommand_from $verbs" -a localize -d 'keep traffic local, fail over'
complete -c meshctl -n "not __fish_seen_subcommand_from $verbs" -a sync-svc -d 'copy Services to every cluster'
complete -c meshctl -n "not __fish_seen_subcommand_from $verbs" -a verify -d 'check a service everywhere'
complete -c meshctl -n "not __fish_seen_subcommand_from $verbs" -a proxy-config -d 'Envoy configuration'
complete -c meshctl -n "not __fish_seen_subcommand_from $verbs" -a version -d 'print the version'
complete -c meshctl -n "not __fish_seen_subcommand_from $verbs" -a config -d 'effective configuration'
complete -c meshctl -n "not __fish_seen_subcommand_from $verbs" -a completion -d 'shell completion script'
complete -c meshctl -l kubeconfig -r -F -d 'kubeconfig file'
complete -c meshctl -s c -l config -r -F -d 'meshctl config file'
complete -c meshctl -s o -l output -x -a 'table wide yaml json' -d 'output format'
complete -c meshctl -s v -l verbose -d 'more logging'
complete -c meshctl -l no-color -d 'never colour output'
complete -c meshctl -l timeout -x -d 'seconds per cluster operation'
complete -c meshctl -l context -x -a '(meshctl __contexts 2>/dev/null)' -d 'kubeconfig context'
complete -c meshctl -l dry-run -d 'print what would be applied'
complete -c meshctl -n '__fish_seen_subcommand_from join' -x -a '(meshctl __contexts 2>/dev/null)'
complete -c meshctl -n '__fish_seen_subcommand_from proxy-config' -x -a 'listener endpoints eds clusters'
complete -c meshctl -n '__fish_seen_subcommand_from config' -x -a view
complete -c meshctl -n '__fish_seen_subcommand_from completion' -x -a 'bash zsh fish'
