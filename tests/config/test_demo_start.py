"""`make run` starts and stops like a tool a person trusts: Ctrl-C ends every process and make reports no
error, and installing the project prints no packaging warning nobody has to act on."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from django.conf import settings

BASE = Path(settings.BASE_DIR)


def _started(process: subprocess.Popen, *markers: str, seconds: float = 30) -> str:
    """The output up to every one of `markers` (the processes are running by then)."""
    assert process.stdout is not None
    seen = ""
    deadline = time.monotonic() + seconds
    while not all(marker in seen for marker in markers) and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen += line
    assert all(marker in seen for marker in markers), seen
    return seen


MAKE = shutil.which("make")


@pytest.mark.skipif(MAKE is None, reason="needs GNU make")
def test_ctrl_c_stops_every_process_and_make_reports_no_error(tmp_path):
    (tmp_path / "Procfile").write_text("one: sleep 60\ntwo: sleep 60\n")
    (tmp_path / "Makefile").write_text(f"run:\n\t{sys.executable} -m config.run_all -f Procfile\n")
    process = subprocess.Popen(  # noqa: S603 (our own command line)
        [str(MAKE), "-s", "run"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(BASE), "ORDERBRIDGE_STOP_SECONDS": "5"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        # Both, in whatever order they come: a loaded machine may start two.1 first, and honcho's runner for
        # one.1 is not yet ignoring signals (honcho's own start-up window, not a user's Ctrl-C).
        _started(process, "one.1 started", "two.1 started")
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)

    # make got the SIGINT too: it waits for its command and then ends by the signal, as a shell's job does
    # (no message). Only a command that failed makes it print "make: *** [run] Error 130".
    assert process.returncode in (0, -signal.SIGINT), output
    assert "Error" not in output and "***" not in output
    assert "one.1 stopped" in output and "two.1 stopped" in output


def test_the_licence_is_an_spdx_expression_so_setuptools_does_not_warn():
    project = tomllib.loads((BASE / "pyproject.toml").read_text())["project"]
    assert isinstance(project["license"], str)
    assert not [c for c in project.get("classifiers", []) if c.startswith("License ::")]
