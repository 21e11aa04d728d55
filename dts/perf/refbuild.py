# SPDX-License-Identifier: BSD-3-Clause
"""Build another commit of vsw in a temporary git worktree, for benchmarks
that compare the working tree against a reference commit side by side
(dpbench.py --ref, bench.py --ref)."""
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class RefBuild:
    """`with RefBuild(commit, tmp, targets, overlay) as b:` builds `targets`
    (ninja target names) of `commit` in tmp/ref/b; b.build is that folder.
    `overlay` lists files of this tree copied over the other one first (a
    newer harness on older libraries). The worktree is removed on exit."""

    def __init__(self, commit, tmp, targets=(), overlay=()):
        self.commit, self.wt = commit, os.path.join(tmp, "ref")
        self.targets, self.overlay = list(targets), list(overlay)
        self.build = Path(self.wt) / "b"

    def __enter__(self):
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", self.wt,
                        self.commit], check=True)
        try:
            for f in self.overlay:
                shutil.copy(ROOT / f, os.path.join(self.wt, f))
            subprocess.run(["meson", "setup", str(self.build)], cwd=self.wt, check=True,
                           capture_output=True)
            subprocess.run(["ninja", "-C", str(self.build)] + self.targets, check=True,
                           capture_output=True)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", self.wt],
                       check=False)
        return False
