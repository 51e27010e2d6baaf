"""Shared fixtures for the MedCom library tests (no Django needed).

Helpers are offered as fixtures, not importable names, so the tests work whatever
pytest import mode the project settles on.
"""

from __future__ import annotations

import copy
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# The repository root must be importable even when this directory is collected on
# its own (e.g. with --confcutdir, or before the package is installed).
_REPO_ROOT = Path(__file__).resolve().parents[2]
if str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

from tovholder.medcom import Org, parse_bundle  # noqa: E402

# MedCom's sample bundles live in shared/medcom beside the repository root
# (/work/shared/medcom for /work/main; the same layout in a CI checkout).
SAMPLES_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "medcom"
SAMPLE_FILES = sorted([*SAMPLES_DIR.glob("receive/Bundle-*"), *SAMPLES_DIR.glob("send/Bundle-*")])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Every test taking ``sample_path`` runs once per MedCom sample bundle.
    if "sample_path" in metafunc.fixturenames:
        metafunc.parametrize(
            "sample_path",
            SAMPLE_FILES,
            ids=[f"{p.parent.name}/{p.name.split('-', 1)[1][:28]}" for p in SAMPLE_FILES],
        )


def _content_type(path: Path) -> str:
    return "application/fhir+xml" if path.suffix == ".xml" else "application/fhir+json"


_parsed: dict[Path, dict[str, Any]] = {}


def _load(path: Path) -> dict[str, Any]:
    """The parsed sample; a deep copy, so tests may change it freely."""
    if path not in _parsed:
        _parsed[path] = parse_bundle(path.read_bytes(), _content_type(path))
    return copy.deepcopy(_parsed[path])


def _named(part: str) -> Path:
    matches = [p for p in SAMPLE_FILES if part in p.name]
    assert len(matches) == 1, f"expected one sample matching {part!r}, got {matches}"
    return matches[0]


def _resources(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type
    ]


@pytest.fixture(scope="session")
def samples_present() -> list[Path]:
    # Fail loudly (not skip) when the samples are missing: they are the acceptance test.
    assert len(SAMPLE_FILES) >= 16, f"MedCom samples not found in {SAMPLES_DIR}"
    return SAMPLE_FILES


@pytest.fixture
def load() -> Callable[[Path], dict[str, Any]]:
    return _load


@pytest.fixture
def sample() -> Callable[[str], dict[str, Any]]:
    """sample("R-Tek-B") -> a fresh copy of that sample bundle."""
    return lambda part: _load(_named(part))


@pytest.fixture
def sample_bytes() -> Callable[[str], tuple[bytes, str]]:
    """sample_bytes("R-Tek-B") -> (raw file bytes, content type)."""

    def read(part: str) -> tuple[bytes, str]:
        path = _named(part)
        return path.read_bytes(), _content_type(path)

    return read


@pytest.fixture
def content_type() -> Callable[[Path], str]:
    return _content_type


@pytest.fixture
def find() -> Callable[[dict[str, Any], str], list[dict[str, Any]]]:
    """find(bundle, "Patient") -> the bundle's Patient resources."""
    return _resources


@pytest.fixture
def us() -> Org:
    """Our own organisation (a municipality) in acknowledgements and replies."""
    return Org(name="Tovholder Testkommune", sor="330461000016004", ean="5790001353308")


@pytest.fixture
def now() -> dt.datetime:
    # Later than every sample, so our segments sort after theirs.
    return dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))


@pytest.fixture
def simple_bundle() -> dict[str, Any]:
    """A fresh copy of a plain new-message sample (JSON) for mutation tests."""
    return _load(_named("S-C-new"))


@pytest.fixture
def mutate(simple_bundle: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    """mutate("Patient", change) runs change(first Patient) and returns the bundle."""

    def apply(resource_type: str, change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
        if resource_type == "Bundle":
            target = simple_bundle
        else:
            target = _resources(simple_bundle, resource_type)[0]
        change(target)
        return simple_bundle

    return apply
