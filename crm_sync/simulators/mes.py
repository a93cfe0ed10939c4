"""The MES simulator: takes work (B2MML OperationsSchedule XML, or CloudEvents JSON) from OrderBridge.

    python -m crm_sync.simulators.mes --port 8102 [--secret whsec_…] [--schema-dir ../shared/standards/b2mml]

With --schema-dir it refuses (400) any B2MML document that does not validate against MESA's V0701
schemas, as a strict MES would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from crm_sync import b2mml

from .base import BadMessage, Parsed, State, argument_parser, serve


def mes_parser(*, schema_dir: Path | None):
    def parse(body: bytes, headers: Mapping[str, str]) -> Parsed:
        content_type = headers.get("content-type", "")
        if "xml" in content_type:
            if schema_dir is not None:
                errors = b2mml.validation_errors(body, schema_dir=schema_dir)
                if errors:
                    raise BadMessage("; ".join(errors[:3]))
            schedule = b2mml.schedule_read(body)
            segments = [s for r in schedule["requests"] for s in r["segments"]]
            sequence = segments[0]["parameters"].get("sequence") if segments else None
            return Parsed(
                subject=schedule["order_number"] or "",
                type=f"{schedule['verb']}OperationsSchedule",
                sequence=sequence if isinstance(sequence, int) else None,
                body=schedule,
            )
        document = json.loads(body)
        if not isinstance(document, dict) or not document.get("subject"):
            raise BadMessage("a CloudEvent with a subject is expected")
        sequence = document.get("sequence")
        return Parsed(
            subject=document["subject"],
            type=document.get("type", ""),
            sequence=sequence if isinstance(sequence, int) else None,
            body=document,
        )

    return parse


def main(argv: list[str] | None = None) -> None:
    parser = argument_parser("MES", 8102, "ORDERBRIDGE_MES_SIM_SECRET")
    parser.add_argument("--schema-dir", type=Path, default=None, help="validate B2MML against these XSDs")
    args = parser.parse_args(argv)
    if args.schema_dir is not None:
        b2mml.load_schema(str(b2mml.schema_path(args.schema_dir)))  # fail at start, not on first order
    serve(
        state=State(name="MES", secret=args.secret, token=args.token),
        parse=mes_parser(schema_dir=args.schema_dir),
        host=args.host,
        port=args.port,
    )


if __name__ == "__main__":
    main()
