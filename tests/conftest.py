"""One cache of generated modules for the whole test run, shared by the pytest-xdist workers.

A compiled field is content-addressed and its index key carries a hash of
modeq's source (:mod:`modeq.numerics.cache`), and writes are atomic, so the
workers can fill one directory at once: a field that two test files (or two
workers) need is derived and compiled once per run instead of once per file
and worker. The directory is the run's own temporary one, so every run starts
cold, as CI does.
"""

import os

import pytest


@pytest.fixture(scope="session")
def cache(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    run = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # xdist: <run>/popen-gw<k>
    path = run / "modeq-cache"
    path.mkdir(exist_ok=True)
    return path
