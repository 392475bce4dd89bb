import type { Command } from 'commander';

/**
 * `hardway completion bash|zsh|fish`: a completion script generated from the command tree (commander has none of
 * its own), so a command or flag added to hardway is completed without touching this file. Node names are not in
 * the script: it asks `hardway __complete nodes [-i FILE]` at completion time, which reads the inventory that
 * `-i`, HARDWAY_INVENTORY or ./inventory.yaml names.
 */

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof SHELLS)[number];

/** What a flag's value is completed with. */
export type ValueKind = 'node' | 'nodes' | 'file' | 'value' | { choices: string[] };

export interface CompletionFlag {
  /** `-i`, `--inventory`. */
  names: string[];
  description: string;
  /** Undefined for a flag without a value. */
  value?: ValueKind;
}

export interface CompletionCommand {
  /** ['member', 'list']; [] for the program. */
  path: string[];
  description: string;
  subcommands: string[];
  flags: CompletionFlag[];
  /** Its first argument names a node (`<node>`, `[node]`). */
  nodeArgument: boolean;
  /** The values its first argument may take (`completion <shell>`). */
  argumentChoices?: string[];
}

const hidden = (c: Command) => !!(c as unknown as { _hidden?: boolean })._hidden;

/** A flag's value kind, from its placeholder: <name>/<node>/<names> a node, choices, a file or directory, else a value. */
function valueKind(flags: string, choices?: readonly string[]): ValueKind | undefined {
  const m = /[<[]([^>\]]+)[>\]]/.exec(flags);
  if (!m) return undefined;
  if (choices?.length) return { choices: [...choices] };
  const what = m[1]!.replace(/\.\.\.$/, '');
  if (what === 'names') return 'nodes';
  if (what === 'node' || what === 'name') return 'node';
  if (/file|dir|\.txt|\.db|\.yaml/.test(what)) return 'file';
  return 'value';
}

/** The tree as completion sees it: visible commands, visible flags (and --help), node arguments. */
export function completionTree(program: Command, prefix: string[] = []): CompletionCommand[] {
  const subs = program.commands.filter((c) => !hidden(c));
  const flags: CompletionFlag[] = program.options
    .filter((o) => !o.hidden)
    .map((o) => {
      const value = valueKind(o.flags, o.argChoices);
      return { names: [o.short, o.long].filter((n): n is string => !!n), description: o.description, ...(value ? { value } : {}) };
    });
  flags.push({ names: ['-h', '--help'], description: 'display help for command' });
  const self: CompletionCommand = {
    path: prefix,
    description: program.description(),
    subcommands: subs.map((c) => c.name()),
    flags,
    nodeArgument: program.registeredArguments[0]?.name() === 'node',
    ...(program.registeredArguments[0]?.argChoices ? { argumentChoices: [...program.registeredArguments[0].argChoices] } : {}),
  };
  return [self, ...subs.flatMap((c) => completionTree(c, [...prefix, c.name()]))];
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const kindText = (k: ValueKind) => (typeof k === 'string' ? k : `choices:${k.choices.join(' ')}`);

/** The bash script (zsh runs it through bashcompinit). */
export function bashScript(tree: CompletionCommand[], bin = 'hardway'): string {
  const fn = `_${bin.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const cases = (lines: [string, string][]) => lines.map(([k, v]) => `    ${q(k)}) echo ${q(v)} ;;`).join('\n');
  const valued = tree.flatMap((c) => c.flags.flatMap((f) => (f.value ? f.names.map((n): [string, string] => [`${c.path.join(' ')}|${n}`, kindText(f.value!)]) : [])));
  const argKinds = tree.flatMap((c): [string, string][] => (c.nodeArgument ? [[c.path.join(' '), 'node']] : c.argumentChoices ? [[c.path.join(' '), `choices:${c.argumentChoices.join(' ')}`]] : []));
  return `# ${bin} completion for bash: eval "$(${bin} completion bash)" in ~/.bashrc, or save it as
# /etc/bash_completion.d/${bin}. Generated from ${bin}'s commands; node names come from the inventory
# (-i FILE, HARDWAY_INVENTORY or ./inventory.yaml) through '${bin} __complete nodes'.
${fn}_subcommands() {
  case "$1" in
${cases(tree.filter((c) => c.subcommands.length).map((c) => [c.path.join(' '), c.subcommands.join(' ')]))}
  esac
}
${fn}_flags() {
  case "$1" in
${cases(tree.map((c) => [c.path.join(' '), c.flags.flatMap((f) => f.names).join(' ')]))}
  esac
}
${fn}_value() {
  case "$1|$2" in
${cases(valued)}
  esac
}
${fn}_argument() {
  case "$1" in
${cases(argKinds)}
  esac
}
${fn}_nodes() {
  local inv="" i
  for ((i = 1; i < \${#COMP_WORDS[@]}; i++)); do
    case "\${COMP_WORDS[i]}" in
      -i | --inventory) inv="\${COMP_WORDS[i + 1]}" ;;
      --inventory=*) inv="\${COMP_WORDS[i]#--inventory=}" ;;
    esac
  done
  command ${bin} __complete nodes \${inv:+-i "$inv"} 2>/dev/null
}
${fn}() {
  [[ -n \${ZSH_VERSION-} ]] && setopt local_options KSH_ARRAYS
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" path="" w kind subs skip=0 args=0 i
  ((COMP_CWORD > 0)) && prev="\${COMP_WORDS[COMP_CWORD - 1]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    case "$w" in
      --) args=99; continue ;;
      -*=*) continue ;;
      -*) [[ -n "$(${fn}_value "$path" "$w")" ]] && skip=1; continue ;;
    esac
    subs=" $(${fn}_subcommands "$path") "
    if ((args == 0)) && [[ "$subs" == *" $w "* ]]; then path="\${path:+$path }$w"; else args=$((args + 1)); fi
  done
  kind="$(${fn}_value "$path" "$prev")"
  [[ "$prev" == -*=* ]] && kind=""
  COMPREPLY=()
  case "$kind" in
    node) COMPREPLY=($(compgen -W "$(${fn}_nodes)" -- "$cur")); return 0 ;;
    nodes)
      local before=""
      [[ "$cur" == *,* ]] && before="\${cur%,*},"
      COMPREPLY=($(compgen -P "$before" -W "$(${fn}_nodes)" -- "\${cur##*,}")); return 0 ;;
    file) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
    choices:*) COMPREPLY=($(compgen -W "\${kind#choices:}" -- "$cur")); return 0 ;;
    value) return 0 ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(${fn}_flags "$path")" -- "$cur"))
    return 0
  fi
  subs="$(${fn}_subcommands "$path")"
  local words="" argument=""
  ((args == 0)) && words="$subs" && argument="$(${fn}_argument "$path")"
  case "$argument" in
    node) words="$words $(${fn}_nodes)" ;;
    choices:*) words="$words \${argument#choices:}" ;;
  esac
  if [[ -n "$words" || -n "$argument" ]]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  elif [[ -z "$subs" ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
  return 0
}
complete -o default -F ${fn} ${bin}
`;
}

/** zsh: the bash script through zsh's bashcompinit (one script to keep right). */
export function zshScript(tree: CompletionCommand[], bin = 'hardway'): string {
  return `#compdef ${bin}
# ${bin} completion for zsh: eval "$(${bin} completion zsh)" in ~/.zshrc (after compinit).
autoload -U +X bashcompinit && bashcompinit
${bashScript(tree, bin).split('\n').filter((l) => !l.startsWith('#')).join('\n')}`;
}

/** fish: one `complete` line per command, flag and node argument; the path typed so far decides which apply. */
export function fishScript(tree: CompletionCommand[], bin = 'hardway'): string {
  const fn = `__${bin.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const children = tree.flatMap((c) => c.subcommands.map((s) => q(`${c.path.join(' ')}|${s}`)));
  const valued = tree.flatMap((c) => c.flags.flatMap((f) => (f.value ? f.names.map((n) => q(`${c.path.join(' ')}|${n}`)) : [])));
  const lines: string[] = [
    `# ${bin} completion for fish: ${bin} completion fish > ~/.config/fish/completions/${bin}.fish`,
    `set -g ${fn}_children ${children.join(' ')}`,
    `set -g ${fn}_valued ${valued.join(' ')}`,
    `function ${fn}_path`,
    '    set -l tokens (commandline -opc)',
    '    set -e tokens[1]',
    "    set -l path ''",
    '    set -l skip 0',
    '    for t in $tokens',
    '        if test $skip = 1',
    '            set skip 0',
    '            continue',
    '        end',
    "        if string match -q -- '-*' $t",
    `            contains -- "$path|$t" $${fn}_valued; and set skip 1`,
    '            continue',
    '        end',
    `        if contains -- "$path|$t" $${fn}_children`,
    '            set path (string trim -- "$path $t")',
    '        end',
    '    end',
    '    echo $path',
    'end',
    `function ${fn}_at`,
    `    test "$(${fn}_path)" = "$argv[1]"`,
    'end',
    `function ${fn}_nodes`,
    '    set -l tokens (commandline -opc)',
    '    set -l inv',
    '    for i in (seq (count $tokens))',
    "        if contains -- $tokens[$i] -i --inventory; and test $i -lt (count $tokens)",
    '            set inv -i $tokens[(math $i + 1)]',
    '        end',
    '    end',
    `    command ${bin} __complete nodes $inv 2>/dev/null`,
    'end',
    `complete -c ${bin} -f`,
  ];
  for (const c of tree) {
    const at = `-n ${q(`${fn}_at ${q(c.path.join(' '))}`)}`;
    for (const s of c.subcommands) {
      const desc = tree.find((t) => t.path.join(' ') === [...c.path, s].join(' '))?.description ?? '';
      lines.push(`complete -c ${bin} ${at} -a ${q(s)} -d ${q(desc.split(/[;:(]/)[0]!.trim().slice(0, 60))}`);
    }
    if (c.nodeArgument) lines.push(`complete -c ${bin} ${at} -a '(${fn}_nodes)'`);
    if (c.argumentChoices) lines.push(`complete -c ${bin} ${at} -a ${q(c.argumentChoices.join(' '))}`);
    for (const f of c.flags) {
      const names = f.names.map((n) => (n.startsWith('--') ? `-l ${n.slice(2)}` : `-s ${n.slice(1)}`)).join(' ');
      const value = f.value === undefined ? '' : f.value === 'file' ? ' -r -F' : f.value === 'node' || f.value === 'nodes' ? ` -x -a '(${fn}_nodes)'` : typeof f.value === 'object' ? ` -x -a ${q(f.value.choices.join(' '))}` : ' -x';
      lines.push(`complete -c ${bin} ${at} ${names}${value} -d ${q(f.description.slice(0, 60))}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: CompletionShell, tree: CompletionCommand[], bin = 'hardway'): string {
  return shell === 'bash' ? bashScript(tree, bin) : shell === 'zsh' ? zshScript(tree, bin) : fishScript(tree, bin);
}
