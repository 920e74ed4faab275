"""Create the branch ``batched-detection`` in a deepface clone: one commit per step.

    python -m upstream_pr.make_branch path/to/deepface-clone

The branch starts at the clone's current HEAD (re-running replaces it). The commits are made
in a temporary worktree, so the clone's own checkout is never touched; a clone that is not a
git repository, has uncommitted changes, or whose code no longer matches what a step expects
gets an error naming the file and the construct, and no branch.
"""

import argparse
import logging
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Sequence

from upstream_pr.cst_tools import CodemodError
from upstream_pr.steps import STEPS, apply_all

BRANCH = "batched-detection"
FALLBACK_AUTHOR = ("deepface batched detection", "batched-detection@users.noreply.github.com")

logger = logging.getLogger("upstream_pr")


class CloneError(Exception):
    """The clone cannot take the branch (not a repository, uncommitted changes, ...)."""


def git(repo: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )
    if check and done.returncode != 0:
        raise CloneError(f"git {' '.join(args)} failed in {repo}: {done.stderr.strip()}")
    return done.stdout.strip()


def check_clone(repo: Path) -> str:
    """The clone's HEAD commit; raises CloneError when it cannot take the branch."""
    if not repo.is_dir():
        raise CloneError(f"{repo} is not a folder")
    top = git(repo, "rev-parse", "--show-toplevel", check=False)
    if not top or Path(top).resolve() != repo.resolve():
        raise CloneError(f"{repo} is not the top of a git repository")
    dirty = git(repo, "status", "--porcelain", "--untracked-files=no")
    if dirty:
        raise CloneError(f"{repo} has uncommitted changes:\n{dirty}")
    return git(repo, "rev-parse", "HEAD")


def _author_env(repo: Path) -> List[str]:
    """``-c user.name=.. -c user.email=..`` where the clone has no identity configured."""
    name = git(repo, "config", "user.name", check=False)
    email = git(repo, "config", "user.email", check=False)
    if name and email:
        return []
    return ["-c", f"user.name={FALLBACK_AUTHOR[0]}", "-c", f"user.email={FALLBACK_AUTHOR[1]}"]


def make_branch(repo: Path) -> str:
    """Build the branch; returns its tip. Nothing in the clone changes on an error."""
    base = check_clone(repo)
    changes = apply_all(repo)  # every transform runs before anything is written
    identity = _author_env(repo)
    with tempfile.TemporaryDirectory(prefix="batched-detection-") as tmp:
        work = Path(tmp) / "tree"
        git(repo, "worktree", "add", "--detach", str(work), base)
        try:
            for step, files in zip(STEPS, changes):
                for rel, text in files.items():
                    (work / rel).parent.mkdir(parents=True, exist_ok=True)
                    (work / rel).write_text(text, encoding="utf-8")
                git(work, "add", *files)
                git(work, *identity, "commit", "-q", "-m", step.message)
            tip = git(work, "rev-parse", "HEAD")
        finally:
            git(repo, "worktree", "remove", "--force", str(work), check=False)
            git(repo, "worktree", "prune", check=False)
    git(repo, "branch", "-f", BRANCH, tip)
    return tip


def report(repo: Path) -> str:
    base = git(repo, "merge-base", "HEAD", BRANCH)
    log = git(repo, "log", "--oneline", f"{base}..{BRANCH}")
    stat = git(repo, "diff", "--stat", base, BRANCH)
    return f"branch {BRANCH} off {base[:10]}:\n{log}\n{stat}"


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("clone", type=Path, help="a git clone of serengil/deepface")
    args = parser.parse_args(list(argv) or None)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        make_branch(args.clone)
    except (CloneError, CodemodError) as err:
        logger.error("upstream-pr: %s (the clone is left as it was)", err)
        return 2
    print(report(args.clone))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
