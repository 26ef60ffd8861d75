"""Loading the project's own stored R reference values (``tests/reference/*.json``)."""

from __future__ import annotations

import json
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent / "reference"


def load_reference(name: str) -> dict:
    """Return the parsed JSON ``tests/reference/<name>`` (written by an R script beside it)."""
    with open(REFERENCE / name, encoding="utf-8") as fh:
        return json.load(fh)


def reverse_coded(values: dict, data):
    """The shared reference data with its reverse-keyed items recoded as (min + max) - x,
    as the reference README prescribes (``preprocessing.reverse_keyed``)."""
    pp = values["preprocessing"]
    data = data.copy()
    for col in pp.get("reverse_keyed") or []:
        rng = pp["response_range"]
        data[col] = rng["min"] + rng["max"] - data[col]
    return data
