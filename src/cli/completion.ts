// Owns `cloudlab completion bash|zsh|fish`: shell completion scripts generated from the commander program tree
// (commands, subcommands and their long options), so they never drift from the real CLI.
import type { Command } from 'commander';
import { invalidInput } from '../core/errors.js';

interface Node {
  name: string;
  description: string;
  options: string[];
  children: Node[];
}

function tree(cmd: Command): Node {
  return {
    name: cmd.name(),
    description: cmd.description().split('\n')[0] ?? '',
    options: cmd.options.map((o) => o.long).filter((l): l is string => Boolean(l)),
    children: cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden).map(tree),
  };
}

function walk(n: Node, path: string[], out: Array<{ path: string[]; node: Node }>): void {
  out.push({ path, node: n });
  for (const c of n.children) walk(c, [...path, c.name], out);
}

function bash(root: Node): string {
  const all: Array<{ path: string[]; node: Node }> = [];
  walk(root, [], all);
  const cases = all
    .map(({ path, node }) => `    "${path.join(' ')}") words="${[...node.children.map((c) => c.name), ...node.options, ...(path.length === 0 ? root.options : [])].join(' ')}" ;;`)
    .join('\n');
  return `# cloudlab bash completion: source <(cloudlab completion bash)
_cloudlab() {
  local cur path="" w i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    case "\${path:+$path }$w" in
${all.filter((a) => a.path.length).map((a) => `      "${a.path.join(' ')}") path="${a.path.join(' ')}" ;;`).join('\n')}
    esac
  done
  local words=""
  case "$path" in
${cases}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
  [[ \${#COMPREPLY[@]} -eq 0 ]] && COMPREPLY=($(compgen -f -- "$cur"))
  return 0
}
complete -F _cloudlab cloudlab
`;
}

function zsh(root: Node): string {
  return `#compdef cloudlab
# cloudlab zsh completion: source <(cloudlab completion zsh)   (uses zsh's bash completion support)
autoload -U +X bashcompinit && bashcompinit
${bash(root).replace(/^# cloudlab bash completion.*\n/, '')}`;
}

function fish(root: Node): string {
  const q = (s: string): string => `'${s.replace(/'/g, "\\'")}'`;
  const lines = ['# cloudlab fish completion: cloudlab completion fish | source', 'complete -c cloudlab -f'];
  for (const o of root.options) lines.push(`complete -c cloudlab -l ${o.replace(/^--/, '')}`);
  for (const c of root.children) {
    lines.push(`complete -c cloudlab -n __fish_use_subcommand -a ${c.name} -d ${q(c.description.slice(0, 80))}`);
    for (const o of c.options) lines.push(`complete -c cloudlab -n '__fish_seen_subcommand_from ${c.name}' -l ${o.replace(/^--/, '')}`);
    for (const s of c.children) {
      lines.push(`complete -c cloudlab -n '__fish_seen_subcommand_from ${c.name}; and not __fish_seen_subcommand_from ${c.children.map((x) => x.name).join(' ')}' -a ${s.name} -d ${q(s.description.slice(0, 80))}`);
      for (const o of s.options) lines.push(`complete -c cloudlab -n '__fish_seen_subcommand_from ${c.name}; and __fish_seen_subcommand_from ${s.name}' -l ${o.replace(/^--/, '')}`);
    }
  }
  return lines.join('\n') + '\n';
}

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

export function completionScript(program: Command, shell: string): string {
  const root = tree(program);
  if (shell === 'bash') return bash(root);
  if (shell === 'zsh') return zsh(root);
  if (shell === 'fish') return fish(root);
  throw invalidInput('COMPLETION_SHELL', `no completion for shell "${shell}"`, [], `choose one of ${SHELLS.join(', ')}`);
}
