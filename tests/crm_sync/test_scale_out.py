"""Scale-out shown, not claimed: two web processes and two Celery workers, each on a host of its own (a
network namespace with its own address, made by this test), talking to PostgreSQL and Redis over the
network, keep the guarantees: every CRM message accepted by either web host is applied once, and every
event reaches the receiver once, in order per order, whichever worker host delivered it.

PostgreSQL listens on 127.0.0.1 only: the test forwards a port on the bridge's address to it (socat); its
Redis (private, nothing on disk) and the receiver (the CRM simulator) listen on the bridge's address.
Needs root, `ip` and `socat`; where network namespaces cannot be made, it skips and says why.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from django.db import connection

from crm_sync import webhooks
from crm_sync.models import Delivery, ExternalSystem, InboundMessage
from tests.crm_sync.conftest import REPO
from tests.crm_sync.factories import TEST_SECRET, ExternalSystemFactory
from tests.factories import CustomerFactory, ProductFactory, UserFactory, in_days, valid_spec
from tests.services import require_postgresql

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ORDERS = 12
ROLES = ("web1", "web2", "work1", "work2")


def _netns_unavailable() -> str:
    """Why this machine cannot make network namespaces here ("" when it can)."""
    if sys.platform != "linux" or os.geteuid() != 0:
        return "needs Linux and root to make network namespaces"
    for tool in ("ip", "socat", "redis-server"):
        if shutil.which(tool) is None:
            return f"needs `{tool}` on PATH"
    probe = f"obprobe{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)  # noqa: S603,S607 - fixed arguments
    if made.returncode:
        return f"cannot make a network namespace: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)  # noqa: S603,S607 - fixed arguments
    return ""


def sh(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603 - our own fixed commands


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, *, timeout: float, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(interval)
    return condition()


class Lab:
    """A bridge on this host and one namespace ("host") per role, each with its own address on it."""

    def __init__(self, folder: Path) -> None:
        tag = f"{os.getpid() % 100000:05d}"
        self.folder = folder
        self.bridge = f"obbr{tag}"
        self.subnet = f"10.213.{os.getpid() % 250}"
        self.gateway = f"{self.subnet}.1"
        self.hosts = {role: (f"ob{tag}{role}", f"{self.subnet}.{11 + i}") for i, role in enumerate(ROLES)}
        self.links = [f"obv{tag}{i}" for i in range(len(ROLES))]
        self.processes: list[subprocess.Popen] = []

    def up(self) -> None:
        sh("ip", "link", "add", self.bridge, "type", "bridge")
        sh("ip", "addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        sh("ip", "link", "set", self.bridge, "up")
        for link, (namespace, address) in zip(self.links, self.hosts.values(), strict=True):
            sh("ip", "netns", "add", namespace)
            sh("ip", "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", namespace)
            sh("ip", "link", "set", link, "master", self.bridge)
            sh("ip", "link", "set", link, "up")
            sh("ip", "netns", "exec", namespace, "ip", "addr", "add", f"{address}/24", "dev", "eth0")
            sh("ip", "netns", "exec", namespace, "ip", "link", "set", "eth0", "up")
            sh("ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up")

    def start(
        self, name: str, command: list[str], *, role: str = "", env: dict | None = None
    ) -> subprocess.Popen:
        prefix = ["ip", "netns", "exec", self.hosts[role][0]] if role else []
        log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(  # noqa: S603 - fixed arguments
            prefix + command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text()

    def down(self) -> None:
        for process in reversed(self.processes):  # only what this lab started
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        for namespace, _address in self.hosts.values():
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)  # noqa: S603,S607 - fixed arguments
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)  # noqa: S603,S607 - fixed arguments


def wait_port(host: str, port: int, process: subprocess.Popen, *, timeout: float) -> None:
    def listening() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"exited before listening on {host}:{port}")
        try:
            with socket.create_connection((host, port), timeout=0.3):
                return True
        except OSError:
            return False

    assert wait_for(listening, timeout=timeout), f"nothing listens on {host}:{port}"


@pytest.fixture
def lab(tmp_path):
    require_postgresql()
    reason = _netns_unavailable()
    if reason:
        pytest.skip(reason)
    running = Lab(tmp_path)
    try:
        running.up()
        yield running
    finally:
        running.down()


def confirmed(crm_id: str) -> dict:
    return {
        "type": "order.created",
        "subject": crm_id,
        "sequence": 1,
        "data": {
            "crm_id": crm_id,
            "customer_crm_id": "ACME-1",
            "requested_date": in_days(20).isoformat(),
            "promised_date": in_days(25).isoformat(),
            "status": "confirmed",
            "lines": [{"line_no": 1, "sku": "PANEL-1", "quantity": "2", "spec_values": valid_spec()}],
        },
    }


def test_two_web_hosts_and_two_worker_hosts_deliver_every_event_once_in_order(lab):
    db = connection.settings_dict
    gateway = lab.gateway
    pg_port, redis_port = free_port(), free_port()
    forward = lab.start(
        "postgres-forward",
        [
            "socat",
            f"TCP-LISTEN:{pg_port},bind={gateway},fork,reuseaddr",
            f"TCP:{db['HOST']}:{db['PORT'] or 5432}",
        ],
    )
    redis = lab.start(
        "redis",
        [
            "redis-server",
            "--bind",
            gateway,
            "--port",
            str(redis_port),
            "--protected-mode",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(lab.folder),
        ],
    )
    lab.start(
        "receiver",
        [
            sys.executable,
            "-m",
            "crm_sync.simulators.crm",
            "--host",
            gateway,
            "--port",
            str(free_port()),
            "--secret",
            TEST_SECRET,
        ],
    )
    wait_port(gateway, pg_port, forward, timeout=10)
    wait_port(gateway, redis_port, redis, timeout=10)
    receiver_url = wait_for(
        lambda: next((w for w in lab.log("receiver").split() if w.startswith("http")), ""), timeout=10
    )
    assert receiver_url, lab.log("receiver")

    ExternalSystemFactory(slug="crm", kind=ExternalSystem.Kind.CRM, service_user=UserFactory(role="admin"))
    ExternalSystemFactory(slug="erp", base_url=receiver_url)  # takes every event of every order
    CustomerFactory(crm_id="ACME-1")
    ProductFactory(sku="PANEL-1")

    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("CELERY_", "DATABASE_"))},
        "ORDERBRIDGE_ENV": "development",
        "DEBUG": "false",
        "LOG_LEVEL": "INFO",
        "DATABASE_URL": f"postgres://{db['USER']}{password}@{gateway}:{pg_port}/{db['NAME']}",
        "CELERY_BROKER_URL": f"redis://{gateway}:{redis_port}/0",
        "CACHE_URL": f"redis://{gateway}:{redis_port}/1",
        "ALLOWED_HOSTS": ",".join(address for _ns, address in lab.hosts.values()),
        "ORDERBRIDGE_SYNC_SWEEP_SECONDS": "1",
        "ORDERBRIDGE_SYNC_RELAY_GRACE_SECONDS": "2",
        "ORDERBRIDGE_SYNC_RETRY_BASE_MS": "200",
    }
    webs = {}
    for role in ("web1", "web2"):
        address = lab.hosts[role][1]
        webs[role] = lab.start(
            role,
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"{address}:8000",
                "--workers",
                "1",
                "--worker-class",
                "gthread",
                "--threads",
                "4",
            ],
            role=role,
            env={**env, "ORDERBRIDGE_VAR_DIR": str(lab.folder / role)},
        )
    for index, role in enumerate(("work1", "work2")):
        lab.start(
            role,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                "celery,sync-deliveries",
                "--pool=prefork",
                "-c",
                "1",
                f"--hostname={role}@%h",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                *(["-B"] if index == 0 else []),
            ],
            role=role,
            env={**env, "ORDERBRIDGE_VAR_DIR": str(lab.folder / role)},
        )
    for role, process in webs.items():
        wait_port(lab.hosts[role][1], 8000, process, timeout=40)
    assert wait_for(lambda: all(" ready." in lab.log(r) for r in ("work1", "work2")), timeout=60)

    with httpx.Client(trust_env=False, timeout=10) as client:
        for number in range(ORDERS):
            role = "web1" if number % 2 == 0 else "web2"  # alternate hosts: the load balancer's job
            body = httpx.Request("POST", "/", json=confirmed(f"CRM-X{number}")).content
            headers = webhooks.signed_headers(secret=TEST_SECRET, msg_id=f"msg_{uuid.uuid4().hex}", body=body)
            url = f"http://{lab.hosts[role][1]}:8000/hooks/crm/?system=crm"
            response = client.post(url, content=body, headers={**headers, "content-type": "application/json"})
            assert response.status_code == 202, response.text

    def settled() -> bool:
        return (
            InboundMessage.objects.filter(state=InboundMessage.State.PROCESSED).count() == ORDERS
            and Delivery.objects.exists()
            and not Delivery.objects.exclude(state=Delivery.State.DELIVERED).exists()
        )

    assert wait_for(settled, timeout=60), "not everything was processed and delivered"
    snapshot = httpx.get(f"{receiver_url}/received", timeout=5, trust_env=False).json()
    received = sorted((item["subject"], item["sequence"]) for item in snapshot["received"])
    expected = sorted(Delivery.objects.values_list("event__subject", "sequence"))
    assert received == expected  # every event once (a re-send is deduplicated and counted apart)
    assert len(expected) == 2 * ORDERS  # created and confirmed, per order
    assert snapshot["out_of_order"] == []
    # Both worker hosts took part.
    assert all("succeeded" in lab.log(role) for role in ("work1", "work2"))
