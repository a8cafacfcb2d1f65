"""Shared fixture: one temporary cache of generated modules per test session."""

import pytest


@pytest.fixture(scope="session")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("modeq-cache")
