"""Shared test options: ``--runslow`` (or ESCALATION_SLOW=1) turns on the long statistical checks."""

import os

import pytest


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False,
                     help="run tests marked slow (long statistical checks)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow") or os.environ.get("ESCALATION_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow or ESCALATION_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def refused(capsys):
    """``refused(argv, word, folder)``: the CLI answers ``argv`` with exit 2 and one line that
    names ``word``, and writes nothing to ``folder`` (the standard for bad input)."""
    def check(argv, word, folder):
        from sim.cli import main as cli
        capsys.readouterr()
        assert cli(list(argv)) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and word in err[0]
        assert not os.path.exists(folder)
    return check
