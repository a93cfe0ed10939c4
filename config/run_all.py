"""`make run`'s process runner: honcho with the Procfile, stopped cleanly by Ctrl-C.

Plain `honcho start` gives every process 5 s after Ctrl-C before it kills them (a Celery worker
finishing a plan takes longer, so it was force-killed) and exits with 130, which make reports as
`*** Error 130`. Here the processes get `ORDERBRIDGE_STOP_SECONDS` (20) to finish, and a stop the
user asked for exits 0.
"""

from __future__ import annotations

import os
import sys

import honcho.manager
from honcho.command import main as honcho_main

# Exit codes honcho returns when it was asked to stop (SIGINT, SIGTERM): the user's choice, not a failure.
ASKED_TO_STOP = {130, 143}


def run(argv: list[str]) -> int:
    honcho.manager.KILL_WAIT = int(os.environ.get("ORDERBRIDGE_STOP_SECONDS", "20"))
    try:
        honcho_main(["start", *argv])
    except SystemExit as stopped:
        code = stopped.code if isinstance(stopped.code, int) else 1
        return 0 if code in ASKED_TO_STOP else code
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
