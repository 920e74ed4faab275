"""Helpers the tests and ``scripts/`` share, kept out of the installed package (``setup.py``
ships ``deepface`` only): random-weight models of the real detector architectures
(:mod:`testkit.random_models`, :mod:`testkit.random_yolo_models`), rescaled and shared-trunk
weights (:mod:`testkit.rescaled_weights`) and a throw-away PostgreSQL cluster
(:mod:`testkit.postgres_cluster`).

Importable from the checkout's root: pytest puts it on ``sys.path`` for ``tests/``, and the
scripts add it (``scripts/benchmark.py``). The library never imports it.
"""
