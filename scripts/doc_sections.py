"""Named sections of a generated markdown file, so that several benchmarks share one doc:
``write_section`` replaces (or appends) one section and keeps the rest; a script that
rewrites the whole file keeps the sections with ``kept_sections``.

A section runs from ``<!-- section: NAME -->`` to ``<!-- end of section: NAME -->``.
"""

import re
from pathlib import Path
from typing import List


def markers(name: str) -> List[str]:
    return [f"<!-- section: {name} -->", f"<!-- end of section: {name} -->"]


def section_pattern(name: str) -> "re.Pattern[str]":
    begin, end = (re.escape(marker) for marker in markers(name))
    return re.compile(f"{begin}.*?{end}\n?", re.DOTALL)


def write_section(path: Path, name: str, text: str) -> None:
    """Put ``text`` as section ``name`` of ``path``: in place of the old one, else at the end."""
    begin, end = markers(name)
    block = f"{begin}\n{text.rstrip()}\n{end}\n"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    pattern = section_pattern(name)
    if pattern.search(old):
        new = pattern.sub(lambda _: block, old, count=1)
    else:
        new = old.rstrip("\n") + ("\n\n" if old.strip() else "") + block
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")


def kept_sections(path: Path) -> str:
    """Every named section of ``path`` (empty when none), to append to a rewritten file."""
    if not path.exists():
        return ""
    text = path.read_text(encoding="utf-8")
    blocks = []
    for name in re.findall(r"<!-- section: (.+?) -->", text):
        match = section_pattern(name).search(text)
        if match:
            blocks.append("\n" + match.group(0).rstrip("\n") + "\n")
    return "".join(blocks)
