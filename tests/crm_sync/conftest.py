"""The CRM and MES simulators as real HTTP processes, started once per session and reset per test."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.crm_sync.factories import TEST_SECRET

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Simulator:
    url: str
    process: subprocess.Popen

    def control(self, **command) -> None:
        httpx.post(f"{self.url}/_control", json=command, timeout=5).raise_for_status()

    def snapshot(self) -> dict:
        return httpx.get(f"{self.url}/received", timeout=5).json()

    def received(self) -> list[dict]:
        return self.snapshot()["received"]

    def subjects(self) -> list[tuple[str, int]]:
        return [(item["subject"], item["sequence"]) for item in self.received()]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_simulator(module: str, *args: str) -> Simulator:
    process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", module, "--port", "0", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()  # "<name> simulator listening on http://127.0.0.1:PORT"
    if "listening on" not in line:
        process.kill()
        raise RuntimeError(f"{module} did not start: {line!r}")
    return Simulator(url=line.split()[-1], process=process)


@pytest.fixture(scope="session")
def _crm_process():
    simulator = start_simulator("crm_sync.simulators.crm", "--secret", TEST_SECRET)
    yield simulator
    simulator.stop()


@pytest.fixture(scope="session")
def _mes_process():
    simulator = start_simulator("crm_sync.simulators.mes", "--secret", TEST_SECRET)
    yield simulator
    simulator.stop()


@pytest.fixture
def crm(_crm_process) -> Simulator:
    _crm_process.control(reset=True, secret=TEST_SECRET)
    return _crm_process


@pytest.fixture
def mes(_mes_process) -> Simulator:
    _mes_process.control(reset=True, secret=TEST_SECRET)
    return _mes_process


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    # Retries are due at once unless a test asks for real backoff; the backoff itself is tested alone.
    settings.SYNC_RETRY_BASE_MS = 0
