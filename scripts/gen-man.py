#!/usr/bin/env python3
"""Builds policyd's man pages and policyctl's bash completion from the binaries' own --help.

The options, subcommands, positionals, defaults and help texts come from running the built
policyd and policyctl (their CLI11 definitions, as `--help` prints them), so a page cannot list a
flag the binary lacks or miss one it has. The prose around them (DESCRIPTION, FILES, EXIT STATUS
...) comes from the checked-in templates in docs/man/*.in, whose placeholders are:

  @VERSION@ @DATE@        the version the binary reports, the date of the newest entry of the
                          Debian changelog (packaging/deb/changelog); the two versions must agree
  @OPTIONS@               the program's own options (policyd, policyctl)
  @SYNOPSIS@ @COMMANDS@   policyctl: one synopsis line and one section per leaf subcommand
  @KEYS@                  policyd.toml: every policyd option but --help, --version and --config

  gen-man.py --policyd BIN --policyctl BIN --templates DIR --changelog FILE --out DIR

writes DIR/policyd.8, DIR/policyctl.1, DIR/policyd.toml.5 and DIR/policyctl.bash-completion.
Exit 0 on success, 1 when the help output or the templates cannot be used (one line saying why).
"""
import argparse
import os
import re
import subprocess
import sys


class Fail(Exception):
    pass


class Option:
    """One entry of a CLI11 "Options:" or "Positionals:" section."""

    def __init__(self, names, metavar, default, constraint, required, help_text):
        self.names = names  # ["-o", "--output"], or ["org"] for a positional
        self.metavar = metavar  # "" for a flag
        self.default = default
        self.constraint = constraint  # e.g. "[1 - 3600000]"
        self.required = required
        self.help = help_text

    @property
    def long(self):
        longs = [n for n in self.names if n.startswith("--")]
        return longs[0] if longs else self.names[0]

    def choices(self):
        """The values of an option whose help says "one of a, b, c"."""
        m = re.search(r"\bone of ([a-z0-9-]+(?:, [a-z0-9-]+)+)\s*$", self.help)
        return m.group(1).split(", ") if m else []


class Command:
    """One program or subcommand, from its --help."""

    def __init__(self, path, about):
        self.path = path  # ["check", "password"]; [] for the program itself
        self.about = about  # the text above "Usage:"
        self.options = []
        self.positionals = []
        self.subcommands = []  # [(name, help)]
        self.children = []


def run_help(binary, path):
    proc = subprocess.run([binary, *path, "--help"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise Fail(f"{binary} {' '.join(path)} --help exited {proc.returncode}: {proc.stderr}")
    return proc.stdout


def parse_spec(spec):
    """'--timeout-ms INT:INT in [1 - 3600000]=5000' -> names, metavar, default, constraint,
    required."""
    first, _, rest = spec.partition(" ")
    names = first.split(",")
    required = rest.endswith(" REQUIRED") or rest == "REQUIRED"
    rest = re.sub(r"\s*REQUIRED$", "", rest)
    default = ""
    if "=" in rest:
        rest, _, default = rest.rpartition("=")
    metavar, constraint = rest, ""
    if ":" in rest:
        base, _, validator = rest.partition(":")
        if re.fullmatch(r"[A-Z]+", validator):
            metavar = validator
        else:
            metavar = base
            constraint = re.sub(r"^[A-Z]+ in ", "", validator)
    return names, metavar, default, constraint, required


def parse_section(lines, start):
    """Parses the entries after a section header at lines[start - 1] until a blank line. CLI11
    starts each description at one column: on the entry's line, or on the next line, indented to
    that column, when the option's text is too long."""
    entries = []
    i = start
    m = re.match(r"  \S.*?\s{2,}(?=\S)", lines[i]) if i < len(lines) else None
    if m:
        column = m.end()
    elif i + 1 < len(lines) and re.match(r" {3,}\S", lines[i + 1]):  # the first entry wrapped
        column = len(lines[i + 1]) - len(lines[i + 1].lstrip())
    else:
        raise Fail(f"no description column in help line {lines[min(i, len(lines) - 1)]!r}")
    while i < len(lines) and lines[i].strip():
        line = lines[i]
        if not line.startswith("  ") or line.startswith("   "):
            raise Fail(f"unexpected help line: {line!r}")
        wrapped = i + 1 < len(lines) and re.match(r" {%d}\S" % column, lines[i + 1])
        if wrapped:
            spec, text = line.strip(), lines[i + 1].strip()
            i += 1
        else:
            spec, text = line[:column].strip(), line[column:].strip()
        entries.append((spec, text))
        i += 1
    return entries, i


def parse_help(binary, path):
    text = run_help(binary, path)
    lines = text.split("\n")
    usage_at = next((n for n, line in enumerate(lines) if line.startswith("Usage: ")), None)
    if usage_at is None:
        raise Fail(f"{binary} {' '.join(path)} --help printed no Usage line")
    about = " ".join(line.strip() for line in lines[:usage_at] if line.strip())
    cmd = Command(path, about)
    i = usage_at + 1
    while i < len(lines):
        header = lines[i].strip()
        if header in ("Options:", "Positionals:", "Subcommands:"):
            entries, i = parse_section(lines, i + 1)
            for spec, help_text in entries:
                if header == "Subcommands:":
                    cmd.subcommands.append((spec, help_text))
                    continue
                names, metavar, default, constraint, required = parse_spec(spec)
                option = Option(names, metavar, default, constraint, required, help_text)
                (cmd.options if header == "Options:" else cmd.positionals).append(option)
        elif header:
            raise Fail(f"unexpected help section {header!r} in {binary} {' '.join(path)}")
        i += 1
    for name, _ in cmd.subcommands:
        cmd.children.append(parse_help(binary, path + [name]))
    return cmd


def leaves(cmd):
    if not cmd.children:
        return [cmd]
    return [leaf for child in cmd.children for leaf in leaves(child)]


# --- roff ------------------------------------------------------------------------------------

def esc(text):
    """Plain text as roff: backslashes, minus signs, and a leading dot or quote."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    if text.startswith((".", "'")):
        text = "\\&" + text
    return text


def option_head(opt, positional=False):
    if positional:
        return f"\\fI{esc(opt.names[0].upper())}\\fR"
    names = ", ".join(f"\\fB{esc(n)}\\fR" for n in opt.names)
    return names + (f" \\fI{esc(opt.metavar)}\\fR" if opt.metavar else "")


def option_body(opt):
    body = esc(opt.help)
    notes = []
    if opt.constraint:
        notes.append("from " + esc(opt.constraint.strip("[]").replace(" - ", " to ")))
    if opt.default:
        notes.append("default: \\fB" + esc(opt.default) + "\\fR")
    if opt.required:
        notes.append("required")
    if notes:
        body += (" (" if body else "(") + "; ".join(notes) + ")"
    return body


def options_roff(options, positional=False):
    out = []
    for opt in options:
        out += [".TP", option_head(opt, positional), option_body(opt)]
    return "\n".join(out)


def synopsis_roff(program, leaf):
    words = [f"\\fB{program}\\fR", "[\\fIglobal options\\fR]"]
    words += [f"\\fB{esc(p)}\\fR" for p in leaf.path]
    for opt in leaf.options:
        if opt.long == "--help":
            continue
        word = option_head(Option([opt.long], opt.metavar, "", "", False, ""))
        words.append(word if opt.required else f"[{word}]")
    words += [option_head(p, positional=True) for p in leaf.positionals]
    return " ".join(words)


def commands_roff(root):
    out = []
    for leaf in leaves(root):
        out += [".SS " + " ".join(leaf.path), esc(leaf.about)]
        if leaf.positionals:
            out += [".PP", "Arguments:", options_roff(leaf.positionals, positional=True)]
        opts = [o for o in leaf.options if o.long != "--help"]
        if opts:
            out += [".PP", "Options:", options_roff(opts)]
    return "\n".join(out)


def keys_roff(daemon):
    """One entry per policyd option but --help, --version and --config: the key, what it
    takes, its help text, its default and its command-line spelling."""
    out = []
    for opt in daemon.options:
        if opt.long in ("--help", "--version", "--config"):
            continue
        value = "\\fItext\\fR" if opt.metavar else "\\fBtrue\\fR | \\fBfalse\\fR"
        body = esc(opt.help)
        if not body.endswith("."):
            body += "."
        default = opt.default if opt.metavar else "false"
        if default:
            body += f" Default: \\fB{esc(default)}\\fR."
        body += f" Command line: \\fB{esc(opt.long)}\\fR."
        out += [".TP", f"\\fB{esc(opt.long[2:])}\\fR = {value}", body]
    return "\n".join(out)


# --- bash completion --------------------------------------------------------------------------

def completion(program, root):
    """A bash completion function: subcommands and options of the command typed so far, the
    choices of an option whose help lists them, file names for other TEXT values."""
    cases = []
    for cmd in walk(root):
        words = [o for opt in cmd.options for o in opt.names]
        takes_value = [o for opt in cmd.options if opt.metavar for o in opt.names]
        subs = [name for name, _ in cmd.subcommands]
        cases.append(f'    "{" ".join(cmd.path)}")\n'
                     f'      subs="{" ".join(subs)}"\n'
                     f'      opts="{" ".join(words)}"\n'
                     f'      valued="{" ".join(takes_value)}"\n'
                     "      ;;")
    choices = []
    files = []
    for cmd in walk(root):
        for opt in cmd.options:
            values = opt.choices()
            pattern = "|".join(f'"{" ".join(cmd.path)}:{n}"' for n in opt.names)
            if values:
                choices.append(f'    {pattern}) values="{" ".join(values)}" ;;')
            elif opt.metavar == "TEXT":
                files.append(pattern)
    file_case = f'    {"|".join(files)}) values="" files=1 ;;' if files else ""
    return f"""# bash completion for {program}: generated by scripts/gen-man.py from `{program} --help`
# (every subcommand's too); do not edit. Installed as
# /usr/share/bash-completion/completions/{program}.

_{program}_node() {{
  case "$1" in
{chr(10).join(cases)}
    *) return 1 ;;
  esac
}}

_{program}() {{
  local cur=${{COMP_WORDS[COMP_CWORD]}} path="" subs opts valued values files=0 i word skip=0
  _{program}_node "" || return 0
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${{COMP_WORDS[i]}}
    if ((skip)); then skip=0; continue; fi
    if [[ " $valued " == *" $word "* ]]; then skip=1; continue; fi
    if [[ $word != -* && " $subs " == *" $word "* ]]; then
      path="${{path:+$path }}$word"
      _{program}_node "$path" || return 0
    fi
  done
  if ((skip)); then
    case "$path:${{COMP_WORDS[COMP_CWORD - 1]}}" in
{chr(10).join(choices)}
{file_case}
    *) return 0 ;;
    esac
    if ((files)); then
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
    fi
    return 0
  fi
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
  else
    mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
  fi
}}
complete -F _{program} {program}
"""


def walk(cmd):
    yield cmd
    for child in cmd.children:
        yield from walk(child)


# --- main -------------------------------------------------------------------------------------

def changelog_entry(path):
    """(version, date) of the newest entry of a Debian changelog."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    head = re.match(r"\S+ \(([^)]+)\) ", text)
    trailer = re.search(r"^ -- .*?>  \w{3}, (\d{1,2}) (\w{3}) (\d{4}) ", text, re.M)
    if not head or not trailer:
        raise Fail(f"{path}: no Debian changelog entry")
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    day, month, year = trailer.groups()
    return head.group(1), f"{year}-{months.index(month) + 1:02d}-{int(day):02d}"


def binary_version(binary):
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    parts = out.stdout.split()
    if out.returncode != 0 or len(parts) != 2:
        raise Fail(f"{binary} --version printed {out.stdout!r}")
    return parts[1]


def fill(template_path, values):
    with open(template_path, encoding="utf-8") as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    left = re.findall(r"@[A-Z]+@", text)
    if left:
        raise Fail(f"{template_path}: unknown placeholders {left}")
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("policyd", "policyctl", "templates", "changelog", "out"):
        parser.add_argument("--" + name, required=True)
    args = parser.parse_args()
    daemon = parse_help(args.policyd, [])
    ctl = parse_help(args.policyctl, [])
    version, date = changelog_entry(args.changelog)
    for binary in (args.policyd, args.policyctl):
        if binary_version(binary) != version:
            raise Fail(f"{args.changelog} is at {version} but {binary} --version says "
                       f"{binary_version(binary)}: add a changelog entry for the new version")
    common = {"VERSION": version, "DATE": date}
    pages = {
        "policyd.8": dict(common, OPTIONS=options_roff(daemon.options)),
        "policyctl.1": dict(common, OPTIONS=options_roff(ctl.options),
                            SYNOPSIS="\n.br\n".join(synopsis_roff("policyctl", leaf)
                                                      for leaf in leaves(ctl)),
                            COMMANDS=commands_roff(ctl)),
        "policyd.toml.5": dict(common, KEYS=keys_roff(daemon)),
    }
    os.makedirs(args.out, exist_ok=True)
    for page, values in pages.items():
        text = fill(os.path.join(args.templates, page + ".in"), values)
        with open(os.path.join(args.out, page), "w", encoding="utf-8") as f:
            f.write(text)
    with open(os.path.join(args.out, "policyctl.bash-completion"), "w", encoding="utf-8") as f:
        f.write(completion("policyctl", ctl))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fail as e:
        print(f"gen-man: {e}", file=sys.stderr)
        sys.exit(1)
