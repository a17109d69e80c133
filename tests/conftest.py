"""Shared fixtures. Tests read ../shared/data (relative to the repo) when it exists and skip when it does not."""

from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"

# Unit tests use tiny models; one thread keeps them steady on a 2-core CI box shared with the benchmark suite.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"shared data not found at {DATA}")
    return DATA
