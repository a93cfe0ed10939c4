"""The operator's phone camera reads an operation's QR code (Chromium's fake camera plays a video of the
traveller's code) and the page opens that operation: the decoder is the npm package the app serves itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import segno
from django.db import connections
from PIL import Image
from playwright.sync_api import expect

from production import master_data
from production.travellers import operation_path
from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.test_floor_journey import PIN, floor_work
from tests.services import require_chromium

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WIDTH, HEIGHT = 640, 480


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    from production import tasks

    monkeypatch.setattr(tasks.reschedule, "apply_async", lambda *args, **kwargs: None)
    monkeypatch.setattr(tasks.plan_fast, "apply_async", lambda *args, **kwargs: None)


@pytest.fixture(autouse=True)
def _forget_floor_centers():
    yield
    master_data.floor_centers_forget()


def camera_video(path: Path, text: str) -> Path:
    """A few frames of a grey-scale Y4M video showing the QR code of `text` (what Chromium's fake camera
    plays to the page)."""
    code = segno.make(text, error="m")
    picture = Image.new("L", (WIDTH, HEIGHT), 255)
    symbol = Image.open(_png(code, path.with_suffix(".png"))).convert("L")
    side = min(WIDTH, HEIGHT) - 80
    symbol = symbol.resize((side, side), Image.Resampling.NEAREST)
    picture.paste(symbol, ((WIDTH - side) // 2, (HEIGHT - side) // 2))
    luma = picture.tobytes()
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            video.write(b"FRAME\n" + luma + chroma + chroma)
    return path


def _png(code: segno.QRCode, path: Path) -> Path:
    code.save(str(path), scale=8, border=4)
    return path


@pytest.fixture
def camera_phone(live_server, tmp_path) -> Iterator:
    from playwright.sync_api import sync_playwright

    cut, _bend = floor_work("en")
    video = camera_video(tmp_path / "camera.y4m", f"{live_server.url}{operation_path(cut)}")
    executable = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": 390, "height": 844},
            has_touch=True,
            locale="en-US",
            permissions=["camera"],
        )
        context.set_default_timeout(20_000)
        try:
            yield context, cut
        finally:
            context.close()
            browser.close()
            connections.close_all()


def test_the_phone_camera_reads_the_travellers_qr_code_and_opens_the_operation(camera_phone, live_server):
    context, cut = camera_phone
    page = context.new_page()
    errors: list[str] = []
    requested: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/floor/")
    page.get_by_test_id("badge").fill("1001")
    page.get_by_test_id("pin").fill(PIN)
    page.get_by_test_id("sign-in").click()

    page.get_by_test_id("scan").click()

    page.wait_for_url(f"**{operation_path(cut)}")
    expect(page.get_by_test_id("remaining")).to_have_text("10")
    assert errors == []
    # The decoder and its WebAssembly came from the app itself: no CDN.
    assert any(url.endswith("zxing_reader.wasm") for url in requested)
    assert [url for url in requested if not url.startswith(live_server.url)] == []
