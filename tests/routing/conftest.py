import time

import pytest

from routing.intent.data import load_split
from routing.intent.train import train_model


@pytest.fixture(scope="session")
def train_rows():
    return load_split("train")


@pytest.fixture(scope="session")
def test_rows():
    return load_split("test")


@pytest.fixture(scope="session")
def trained(train_rows):
    """The default configuration trained once per session on the shipped train split."""
    started = time.perf_counter()
    model = train_model(train_rows)
    model.info["test_train_seconds"] = time.perf_counter() - started
    return model
