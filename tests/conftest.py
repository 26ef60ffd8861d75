"""Shared test fixtures.

``shared_dir`` is the workplace's ``../shared`` folder (real survey exports and R reference
values with their own licences). Tests that need it skip cleanly when it is absent. Set
``SERVICESTUDY_SHARED`` to point elsewhere.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "reference"


def _shared() -> Path:
    env = os.environ.get("SERVICESTUDY_SHARED")
    return Path(env) if env else ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = _shared()
    if not path.is_dir():
        pytest.skip(f"{path} is absent (the workplace's shared fixtures and references)")
    return path


@pytest.fixture(scope="session")
def fixtures_dir(shared_dir: Path) -> Path:
    path = shared_dir / "fixtures"
    if not path.is_dir():
        pytest.skip(f"{path} is absent")
    return path


@pytest.fixture(scope="session")
def shared_reference(shared_dir: Path):
    """Return a loader: ``shared_reference("holzinger")`` -> (json dict, data DataFrame)."""
    import pandas as pd

    def load(name: str):
        ref = shared_dir / "reference"
        if not (ref / f"{name}.json").is_file():
            pytest.skip(f"{ref / name}.json is absent")
        with open(ref / f"{name}.json", encoding="utf-8") as fh:
            values = json.load(fh)
        data = pd.read_csv(ref / "data" / f"{name}.csv")
        return values, data

    return load


@pytest.fixture(scope="module", params=["holzinger", "sim_likert"])
def shared(request, shared_reference):
    """(name, R reference values, reverse-coded data) for each shared reference dataset."""
    values, data = shared_reference(request.param)
    from refs import reverse_coded

    return request.param, values, reverse_coded(values, data)


@pytest.fixture(scope="module")
def bfi():
    """(R reference values, data) written by tests/reference/reliability.R (bfi with missing values)."""
    import pandas as pd

    from refs import REFERENCE, load_reference

    ref = load_reference("reliability.json")
    return ref, pd.read_csv(REFERENCE / ref["data_file"])
