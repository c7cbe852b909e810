//! `supervisorctl completion bash|zsh|fish`: shell completion scripts.
//!
//! Supervisor has no such command; it is ours, reachable only as a
//! one-shot command (the shell's `help` list stays Supervisor's). The
//! scripts complete command names from [`help::COMMANDS`] and, after a
//! command that takes process names, the names printed by
//! `supervisorctl avail` — run with the `-c`/`-s`/`-u`/`-p` options
//! already typed on the line, so they ask the same daemon. Only the
//! lines of `avail`'s table (`NAME  in use  …` / `NAME  avail  …`) are
//! names: an unreachable daemon's error line offers nothing.
//!
//! Written by hand, not generated with `clap_complete`: that crate renders
//! a clap `Command` (which supervisorctl, parsing with getopt rules, does
//! not have) into static scripts, and cannot produce the dynamic part —
//! asking the daemon for names with the options already on the line —
//! that `tests/ctl_shell_tty.rs` checks.

use crate::help;

/// Commands whose arguments are process or group names.
const TAKES_NAMES: &[&str] = &[
    "add", "clear", "fg", "pid", "remove", "restart", "start", "status", "stop", "tail", "update",
];

/// The script for `shell`, or `None` for a shell we do not know.
pub fn script(shell: &str) -> Option<String> {
    let commands = help::COMMANDS.join(" ");
    let takes_names = TAKES_NAMES.join(" ");
    let text = match shell {
        "bash" => BASH,
        "zsh" => ZSH,
        "fish" => FISH,
        _ => return None,
    };
    Some(
        text.replace("@COMMANDS@", &commands)
            .replace("@TAKES_NAMES@", &takes_names)
            .replace("@TAKES_NAMES_ALT@", &TAKES_NAMES.join("|")),
    )
}

const BASH: &str = r#"# bash completion for supervisorctl (supervisor-rs)
# Install: supervisorctl completion bash > /etc/bash_completion.d/supervisorctl
_supervisorctl() {
    local cur opts=() cmd="" i word
    cur="${COMP_WORDS[COMP_CWORD]}"
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${COMP_WORDS[i]}"
        case "$word" in
            -c|--configuration|-s|--serverurl|-u|--username|-p|--password)
                opts+=("$word" "${COMP_WORDS[i+1]}"); ((i++)) ;;
            -*) ;;
            *) cmd="$word"; break ;;
        esac
    done
    if [[ -z "$cmd" ]]; then
        if [[ "$cur" == -* ]]; then
            COMPREPLY=($(compgen -W "-c --configuration -h --help -i --interactive -s --serverurl -u --username -p --password -r --history-file" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "@COMMANDS@" -- "$cur"))
        fi
        return
    fi
    if [[ "$cmd" == help ]]; then
        COMPREPLY=($(compgen -W "@COMMANDS@" -- "$cur"))
        return
    fi
    case " @TAKES_NAMES@ " in
        *" $cmd "*)
            local names
            names=$("${COMP_WORDS[0]}" "${opts[@]}" avail 2>/dev/null | awk '$2 == "in" || $2 == "avail" {print $1}')
            COMPREPLY=($(compgen -W "all $names" -- "$cur")) ;;
    esac
}
complete -F _supervisorctl supervisorctl
"#;

const ZSH: &str = r#"#compdef supervisorctl
# zsh completion for supervisorctl (supervisor-rs)
# Install: supervisorctl completion zsh > "${fpath[1]}/_supervisorctl"
_supervisorctl() {
    local -a opts commands names
    local i cmd=""
    commands=(@COMMANDS@)
    for ((i = 2; i < CURRENT; i++)); do
        case "${words[i]}" in
            -c|--configuration|-s|--serverurl|-u|--username|-p|--password)
                opts+=("${words[i]}" "${words[i+1]}"); ((i++)) ;;
            -*) ;;
            *) cmd="${words[i]}"; break ;;
        esac
    done
    if [[ -z "$cmd" ]]; then
        compadd -a commands
        return
    fi
    case "$cmd" in
        @TAKES_NAMES_ALT@)
            names=(all ${(f)"$(${words[1]} $opts avail 2>/dev/null | awk '$2 == "in" || $2 == "avail" {print $1}')"})
            compadd -a names ;;
        help) compadd -a commands ;;
    esac
}
_supervisorctl "$@"
"#;

const FISH: &str = r#"# fish completion for supervisorctl (supervisor-rs)
# Install: supervisorctl completion fish > ~/.config/fish/completions/supervisorctl.fish
function __supervisorctl_names
    set -l tokens (commandline -opc)
    set -l opts
    set -l i 2
    while test $i -le (count $tokens)
        switch $tokens[$i]
            case -c --configuration -s --serverurl -u --username -p --password
                set opts $opts $tokens[$i] $tokens[(math $i + 1)]
                set i (math $i + 1)
        end
        set i (math $i + 1)
    end
    echo all
    $tokens[1] $opts avail 2>/dev/null | awk '$2 == "in" || $2 == "avail" {print $1}'
end
complete -c supervisorctl -f
complete -c supervisorctl -s c -l configuration -r -d 'configuration file'
complete -c supervisorctl -s s -l serverurl -x -d 'server URL'
complete -c supervisorctl -s u -l username -x -d 'user name'
complete -c supervisorctl -s p -l password -x -d 'password'
complete -c supervisorctl -s i -l interactive -d 'start the shell'
complete -c supervisorctl -s h -l help -d 'help'
complete -c supervisorctl -n '__fish_use_subcommand' -a '@COMMANDS@'
complete -c supervisorctl -n '__fish_seen_subcommand_from @TAKES_NAMES@' -a '(__supervisorctl_names)'
complete -c supervisorctl -n '__fish_seen_subcommand_from help' -a '@COMMANDS@'
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_every_command() {
        for shell in ["bash", "zsh", "fish"] {
            let text = script(shell).unwrap();
            for marker in ["@COMMANDS@", "@TAKES_NAMES@", "@TAKES_NAMES_ALT@"] {
                assert!(!text.contains(marker), "{shell}: {marker} left");
            }
            for command in help::COMMANDS {
                assert!(text.contains(command), "{shell}: {command}");
            }
        }
        assert!(script("tcsh").is_none());
    }
}
