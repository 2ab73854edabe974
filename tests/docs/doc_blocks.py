"""The code blocks of README.md and docs/*.md, and the command lines in them, for the docs test.

A block is fenced (```lang ... ```) or indented by four spaces after a blank line (Markdown's
indented code). A fenced block tagged python is one program; one tagged yaml, json, text or
c is not a command. In the other blocks each line (continuation lines joined, comments after
`#` kept as written) is classified by what it is:

- a command: its first word is a program or an environment assignment (NAME=value);
- a usage synopsis: it shows placeholders (SWEEP.yaml, OUT.h5, [--option], ...), not a command;
- text the block shows (program output, a file layout): anything else.
"""
import glob
import os
import re

NOT_COMMANDS = {"yaml", "yml", "json", "text", "c", "h", "toml", "csv", "ini"}
# Words that start a shell command line in these docs. An unknown first word followed by
# arguments is classified as text only when it cannot be a program (see _is_text).
PROGRAMS = {"iclsweep", "iclsweep-analyze", "build/iclsweep", "python3", "/usr/bin/python3",
            "mpirun", "srun", "sbatch", "squeue", "scancel", "cmake", "ctest", "cd", "pip",
            "apt-get", "module", "eval", "scripts/demo.sh", "scripts/test.sh",
            "scripts/install-deps.sh", "slurm/submit", "slurm/local-cluster", "h5dump",
            "export", "mkdir", "cp", "ls", "cat", "npm", "sudo", "git"}
# A token that stands for something the reader fills in: SWEEP.yaml, OUT.h5, MODEL, N, [--opt],
# a|b, name..., <param>.
PLACEHOLDER = re.compile(r"^(\[.*|.*\]|.*\.\.\.|[A-Z][A-Z0-9_]+(\.(yaml|h5))?|<\w+>|"
                         r"-[-\w]*\w\|[-\w]+|\w+\|\w+(\|\w+)*)$")
ENV = re.compile(r"^[A-Z_][A-Z0-9_]*=\S*$")


def blocks(path):
    """[(first line number, lang, [lines])] of the code blocks of a Markdown file."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        fence = re.match(r"^\s*```(\w*)", line)
        if fence:
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith("```"):
                j += 1
            out.append((i + 2, fence.group(1).lower(), lines[i + 1:j]))
            i = j + 1
            continue
        if line.startswith("    ") and (i == 0 or not lines[i - 1].strip()) \
                and not re.match(r"^\s*([-*]|\d+\.)\s", lines[i - 1] if i else ""):
            j = i
            while j < len(lines) and (lines[j].startswith("    ") or not lines[j].strip()):
                j += 1
            body = lines[i:j]
            while body and not body[-1].strip():
                body.pop()
            if not _inside_list(lines, i):
                out.append((i + 1, "", [b[4:] for b in body]))
            i = j
            continue
        i += 1
    return out


def _inside_list(lines, i):
    """True when the indented lines at i continue a list item (not code)."""
    k = i - 1
    while k >= 0 and not lines[k].strip():
        k -= 1
    return k >= 0 and bool(re.match(r"^\s*([-*]|\d+\.)\s", lines[k])) and \
        not lines[k].rstrip().endswith(":")


def joined(lines, first):
    """[(line number, text)] with backslash continuations joined."""
    out, buf, start = [], "", None
    for k, line in enumerate(lines):
        if start is None:
            start = first + k
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        out.append((start, buf + line))
        buf, start = "", None
    return out


def first_word(text):
    words = text.split()
    k = 0
    while k < len(words) and ENV.match(words[k]):
        k += 1
    return words[k] if k < len(words) else ""


def classify(text):
    """'command', 'synopsis', 'blank' or 'text' for one (joined) line of a shell block."""
    s = text.strip()
    if not s or s.startswith("#"):
        return "blank"
    word = first_word(s)
    if word in PROGRAMS or (word and ENV.match(s.split()[0])):
        return "synopsis" if any(PLACEHOLDER.match(t) for t in _tokens(s)) else "command"
    return "text"


def _tokens(text):
    """The words of a command line outside quotes and before a trailing comment; a lone `|`
    before an option (`--version | --help`) counts as a placeholder."""
    code = re.sub(r"\"[^\"]*\"|'[^']*'", "Q", text.split(" #")[0])
    words = code.split()
    return [("[" if w == "|" and k + 1 < len(words) and words[k + 1].startswith("-") else w)
            for k, w in enumerate(words) if not ENV.match(w) and w != "|"
            or (w == "|" and k + 1 < len(words) and words[k + 1].startswith("-"))]


def doc_files(root):
    return [os.path.join(root, "README.md")] + sorted(glob.glob(os.path.join(root, "docs",
                                                                             "*.md")))


def commands(root):
    """[(file relative to root, line, text, kind)] of every shell line (kind command, synopsis)
    and every python block (kind python), in document order."""
    out = []
    for path in doc_files(root):
        rel = os.path.relpath(path, root)
        for first, lang, lines in blocks(path):
            if lang in NOT_COMMANDS:
                continue
            if lang in ("python", "py"):
                out.append((rel, first, "\n".join(lines), "python"))
                continue
            for line, text in joined(lines, first):
                kind = classify(text)
                if kind in ("command", "synopsis"):
                    out.append((rel, line, text.strip(), kind))
    return out
