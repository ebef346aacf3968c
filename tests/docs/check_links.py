#!/usr/bin/env python3
"""Checks that every relative link in README.md and docs/*.md resolves.

A link's file (or directory) must exist, and a `#anchor` into a markdown file (the same one, or
another) must name one of its headings as GitHub spells the anchor: lower case, every character
but letters, digits, spaces, `-` and `_` removed, spaces turned into `-`, and `-1`, `-2`, ... added
to repeated headings. Absolute URLs (http:, https:, mailto:) are not checked. Links inside code
(fenced blocks, inline code) are not links.

  tests/docs/check_links.py [REPO_ROOT]      exit 0: all resolve; 1: each broken link printed
"""

import os
import re
import sys
import unicodedata

FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
# [text](target "title") and ![alt](target); the text may hold brackets one level deep.
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)


def strip_code_spans(line):
    """Replaces inline code by x's of the same length, so that links inside it are not seen."""
    return INLINE_CODE.sub(lambda m: "x" * len(m.group(0)), line)


def prose_lines(text):
    """Yields (line number, line) for every line outside fenced code blocks."""
    fence = None
    for number, line in enumerate(text.split("\n"), 1):
        m = FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)[0] * 3
            continue
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            continue
        yield number, line


def heading_text(raw):
    """The text of a heading as GitHub renders it: code marks, emphasis and link targets gone."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", raw)  # [text](url) -> text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    return text.replace("`", "").replace("*", "").replace("~", "")


def slug(text):
    out = []
    for ch in heading_text(text).strip().lower():
        if ch in " -_" or unicodedata.category(ch)[0] in "LN":
            out.append("-" if ch == " " else ch)
    return "".join(out)


def anchors_of(path, cache={}):  # noqa: B006 (a cache on purpose)
    if path not in cache:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        seen = {}
        anchors = set()
        for _, line in prose_lines(text):
            anchors.update(HTML_ANCHOR.findall(line))
            m = HEADING.match(line)
            if not m:
                continue
            base = slug(m.group(2))
            n = seen.get(base, 0)
            seen[base] = n + 1
            anchors.add(base if n == 0 else f"{base}-{n}")
        cache[path] = anchors
    return cache[path]


def links_of(text):
    for number, line in prose_lines(text):
        line = strip_code_spans(line)
        for m in INLINE_LINK.finditer(line):
            yield number, m.group(1)
        m = REFERENCE_DEF.match(line)
        if m:
            yield number, m.group(1)


def check_file(root, rel):
    path = os.path.join(root, rel)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    errors = []
    for number, target in links_of(text):
        if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            continue  # absolute URL (or an empty link, which markdown renders as text)
        file_part, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        where = f"{rel}:{number}: {target}"
        if not os.path.exists(dest):
            errors.append(f"{where}: no such file or directory")
            continue
        if anchor and dest.endswith(".md") and anchor not in anchors_of(dest):
            errors.append(f"{where}: no heading with anchor #{anchor} in {os.path.relpath(dest, root)}")
    return errors


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    docs = sorted(f for f in os.listdir(os.path.join(root, "docs")) if f.endswith(".md"))
    files = ["README.md"] + [os.path.join("docs", f) for f in docs]
    errors = []
    for rel in files:
        errors += check_file(root, rel)
    for e in errors:
        print(e)
    print(f"check_links: {len(files)} files, {len(errors)} broken link(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
