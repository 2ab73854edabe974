"""bench/RESULTS-checkpoint.md, section by section: each benchmark of this folder rewrites its own."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PATH = os.path.join(ROOT, "bench", "RESULTS-checkpoint.md")


def write_section(lines):
    """Puts lines (a section whose first line is its "## title") in place of the file's section of
    that title, or at the end."""
    old = open(PATH).read() if os.path.exists(PATH) else "# Checkpoint results\n\n"
    start = old.find(lines[0] + "\n")
    if start >= 0:
        end = old.find("\n## ", start + 1)
        old = old[:start] + (old[end + 1:] if end >= 0 else "")
    with open(PATH, "w") as f:
        f.write(old.rstrip("\n") + "\n\n" + "\n".join(lines))
