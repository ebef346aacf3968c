#!/usr/bin/env python3
"""Runs every shell command of README.md and docs/*.md that a user is meant to run.

The convention (docs/README.md, "Code blocks"): a fenced block whose info string is `sh` (or
`bash`, `shell`) is run; `sh no-run: <reason>` is not (the reason is required); `console`,
`text`, other languages and blocks without an info string are not commands.

Each page is one session: its runnable blocks, in order, are one bash script (`set -euo
pipefail`), so a block may use a variable or a daemon an earlier block of the page started. The
script runs in a scratch directory that looks like the repository's root (a symlink to each
top-level entry, and `build` to the build directory), with `build/src/daemon`, `build/src/cli`
and `build/bench` on PATH, so `policyd`, `policyctl`, `examples/snapshot.json` and
`./scripts/demo.sh build` work as written. `/tmp/` in a command means the scratch's own tmp
directory, so that a page's sockets and stores never meet another run's. Whatever a page started
is stopped when its script ends (its process group gets SIGTERM, then SIGKILL).

  run_doc_commands.py --source ROOT --build BUILD [--skip-page PAGE]... [--page PAGE]... [--list]

Exit 0: every page's script exited 0. 1: a script failed (its output and the block it stopped
in are printed), or a block breaks the convention. 77: skipped (--skip-all REASON).
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

FENCE_OPEN = re.compile(r"^( {0,3}|\s*)(`{3,}|~{3,})\s*([^\s`]*)\s*(.*?)\s*$")
RUNNABLE = {"sh", "bash", "shell"}
PAGE_TIMEOUT_S = 120


class Block:
    def __init__(self, page, line, lang, rest, body):
        self.page, self.line, self.lang, self.rest, self.body = page, line, lang, rest, body

    @property
    def where(self):
        return f"{self.page}:{self.line}"


def blocks_of(root, page):
    """Every fenced code block of `page` (relative to root), with its info string split."""
    lines = open(os.path.join(root, page), encoding="utf-8").read().split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE_OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang, rest = len(m.group(1)), m.group(2), m.group(3), m.group(4)
        body, j = [], i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            line = lines[j]
            body.append(line[indent:] if line[:indent].strip() == "" else line)
            j += 1
        blocks.append(Block(page, i + 1, lang, rest, "\n".join(body)))
        i = j + 1
    return blocks


def convention_errors(block):
    """What is wrong with a shell block's marking, if anything."""
    if block.lang not in RUNNABLE:
        return []
    if block.rest.startswith("no-run"):
        reason = block.rest[len("no-run"):].lstrip(":").strip()
        return [] if reason else [f"{block.where}: `{block.lang} no-run` needs a reason: `no-run: why`"]
    if block.rest:
        return [f"{block.where}: unknown info string `{block.lang} {block.rest}` (`sh` or `sh no-run: why`)"]
    if any(line.startswith("$ ") for line in block.body.split("\n")):
        return [f"{block.where}: a transcript (`$ ` prompts) is a `console` block, not `sh`"]
    return []


def runnable(block):
    return block.lang in RUNNABLE and not block.rest


def pages_of(root):
    docs = sorted(f for f in os.listdir(os.path.join(root, "docs")) if f.endswith(".md"))
    return ["README.md"] + [os.path.join("docs", f) for f in docs]


def setup_commands_errors(root):
    """The README starts with the two set-up commands, which CI runs itself (.ci/run)."""
    readme = blocks_of(root, "README.md")
    ci = open(os.path.join(root, ".ci", "run"), encoding="utf-8").read()
    first_two = readme[:2]
    if len(first_two) < 2 or any(b.lang != "sh" or not b.rest.startswith("no-run") for b in first_two):
        return ["README.md: the first two blocks must be the set-up commands, marked `sh no-run: ...`"]
    if first_two[1].body.strip() not in ci.split("\n"):
        return [f"{first_two[1].where}: the test command is not the one .ci/run runs"]
    return []


def make_scratch(root, build):
    scratch = tempfile.mkdtemp(prefix="policyd-docs-", dir="/tmp")
    for name in os.listdir(root):
        if name == ".git" or name.startswith("build"):
            continue
        os.symlink(os.path.join(root, name), os.path.join(scratch, name))
    os.symlink(build, os.path.join(scratch, "build"))
    os.mkdir(os.path.join(scratch, "tmp"))
    return scratch


def page_script(blocks, scratch):
    parts = ["set -euo pipefail"]
    for b in blocks:
        body = b.body.replace("/tmp/", os.path.join(scratch, "tmp") + "/")
        parts.append(f"echo '>>> {b.where}' >&2\n{body}")
    return "\n".join(parts) + "\n"


def stop_group(proc):
    for sig, wait_s in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


def run_page(page, blocks, root, build):
    scratch = make_scratch(root, build)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(
        [os.path.join(build, d) for d in ("src/daemon", "src/cli", "bench")] + [env.get("PATH", "")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["TMPDIR"] = os.path.join(scratch, "tmp")
    start = time.monotonic()
    # Output to a file, not a pipe: a daemon the page left running keeps its stdout open.
    log_path = os.path.join(scratch, "tmp", "page.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen(["bash", "-c", page_script(blocks, scratch)], cwd=scratch, env=env,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            rc = proc.wait(timeout=PAGE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            rc = -1
        stop_group(proc)
        proc.wait()
    with open(log_path, encoding="utf-8", errors="replace") as log:
        output = log.read()
    if rc == -1:
        output += f"\n(timed out after {PAGE_TIMEOUT_S} s)\n"
    shutil.rmtree(scratch, ignore_errors=True)
    seconds = time.monotonic() - start
    return rc, output, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", required=True)
    parser.add_argument("--build", required=True)
    parser.add_argument("--page", action="append", default=[], help="run only these pages")
    parser.add_argument("--skip-page", action="append", default=[], help="pages not to run (with why)")
    parser.add_argument("--skip-all", help="skip the test (exit 77), saying why")
    parser.add_argument("--list", action="store_true", help="print the runnable blocks, run nothing")
    parser.add_argument("--verbose", action="store_true", help="print every page's output")
    args = parser.parse_args()
    if args.skip_all:
        print(f"run_doc_commands: skipped: {args.skip_all}")
        return 77
    root, build = os.path.abspath(args.source), os.path.abspath(args.build)

    errors = setup_commands_errors(root)
    pages = {}
    no_run = 0
    for page in pages_of(root):
        blocks = blocks_of(root, page)
        for b in blocks:
            errors += convention_errors(b)
            no_run += b.lang in RUNNABLE and b.rest.startswith("no-run")
        pages[page] = [b for b in blocks if runnable(b)]
    if errors:
        print("\n".join(errors))
        return 1
    if args.list:
        for page, blocks in pages.items():
            for b in blocks:
                print(f"--- {b.where}\n{b.body}")
        return 0

    failed = []
    for page, blocks in pages.items():
        if not blocks or (args.page and page not in args.page):
            continue
        if page in args.skip_page:
            print(f"{page}: skipped (--skip-page)")
            continue
        rc, output, seconds = run_page(page, blocks, root, build)
        print(f"{page}: {len(blocks)} block(s), exit {rc}, {seconds:.1f} s")
        if args.verbose and rc == 0:
            print("\n".join("  | " + line for line in output.rstrip("\n").split("\n")))
        if rc != 0:
            failed.append(page)
            stopped = re.findall(r"^>>> (\S+)$", output, re.MULTILINE)
            print(f"  stopped in the block at {stopped[-1] if stopped else '?'}; its output:")
            print("\n".join("  | " + line for line in output.rstrip("\n").split("\n")[-60:]))
    total = sum(len(b) for b in pages.values())
    print(f"run_doc_commands: {total} runnable block(s), {no_run} no-run, {len(failed)} page(s) failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
