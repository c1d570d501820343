import os

import pytest

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def read_fixture(*parts):
    with open(os.path.join(FIXTURES, *parts)) as f:
        return f.read()


@pytest.fixture
def fixture_text():
    return read_fixture
