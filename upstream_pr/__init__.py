"""The pull request to serengil/deepface that adds batched detection, written as a codemod.

Not part of the package (never shipped in the wheel): ``make upstream-pr DEEPFACE=clone``
runs :mod:`upstream_pr.make_branch` on a clone of deepface, ``make upstream-check`` runs
:mod:`upstream_pr.check` on the branch it made. The project holds no copy of deepface's
files: every step is a libcst transform of the clone's own source.
"""
