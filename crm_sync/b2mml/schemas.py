"""Validation against MESA's B2MML schemas, which stay outside the repository (settings.B2MML_SCHEMA_DIR:
its `Schema/` folder holds V0701; `V0401/` holds the legacy dialect of the 2012 example files).

"The Business To Manufacturing Markup Language (B2MML) is used courtesy of MESA International."
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

SCHEDULE_ENTRY_POINT = "B2MML-OperationsSchedule.xsd"
PERFORMANCE_ENTRY_POINT = "B2MML-OperationsPerformance.xsd"


def schema_path(schema_dir: Path, entry_point: str = SCHEDULE_ENTRY_POINT) -> Path:
    return Path(schema_dir) / "Schema" / entry_point


@functools.cache
def load_schema(path: str) -> Any:
    """Build an XSD once per process: the V0701 set is 34 files and takes seconds to load."""
    import xmlschema  # heavy, and only needed where documents are validated (tests, the MES simulator)

    return xmlschema.XMLSchema(path)


def _errors(document: bytes, *, schema_dir: Path, entry_point: str) -> list[str]:
    schema = load_schema(str(schema_path(schema_dir, entry_point)))
    return [str(error.reason or error) for error in schema.iter_errors(document.decode("utf-8"))]


def validation_errors(document: bytes, *, schema_dir: Path) -> list[str]:
    """What the V0701 OperationsSchedule schema finds wrong with one of our schedules ([] if valid)."""
    return _errors(document, schema_dir=schema_dir, entry_point=SCHEDULE_ENTRY_POINT)


def performance_validation_errors(document: bytes, *, schema_dir: Path) -> list[str]:
    """What the V0701 OperationsPerformance schema finds wrong with a performance message ([] if valid)."""
    return _errors(document, schema_dir=schema_dir, entry_point=PERFORMANCE_ENTRY_POINT)
