"""The browser page, for real: `motionworld serve` in a subprocess, played in headless Chromium
(selenium). Skipped where Chromium or its driver is missing; failed instead where
MOTIONWORLD_REQUIRE_BROWSER is set. MOTIONWORLD_SCREENSHOT=path.png saves a screenshot of the page
(the README's). After the shipped garden, a real photograph (one of scikit-image's public-domain
samples) is dropped onto the page the way a user drops one, and played too."""
from __future__ import annotations

import base64
import io
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _browser_missing() -> str | None:
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not os.access(exe, os.X_OK):
            return f"{exe} is not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, condition, timeout: float, every: float = 0.1):
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


@pytest.fixture
def browser(tmp_path):
    reason = _browser_missing()
    if reason is not None:
        if os.environ.get("MOTIONWORLD_REQUIRE_BROWSER"):
            pytest.fail(f"a browser is required here (MOTIONWORLD_REQUIRE_BROWSER is set): {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1000,700"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def _photo_jpeg(width: int = 320) -> bytes:
    """A real photograph as a small JPEG: scikit-image's coffee cup (public domain, shipped inside
    the package, so nothing is downloaded), downscaled to keep the depth and the frames quick."""
    import skimage  # a dependency: its public-domain sample photographs
    from PIL import Image

    photo = Image.open(Path(skimage.__file__).parent / "data" / "coffee.png").convert("RGB")
    photo = photo.resize((width, round(photo.height * width / photo.width)), Image.LANCZOS)
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=85)
    return out.getvalue()


# Drops a file the way a user does: dragover, then drop, each carrying a DataTransfer with a File
# made in the page from the bytes the test passes (base64), on the page's own handlers (on window).
# Returns whether the page accepted each (it cancels both events for files).
_DROP = """
const [name, b64] = arguments;
const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const dt = new DataTransfer();
dt.items.add(new File([bytes], name, { type: "image/jpeg" }));
const fire = (type) => !document.body.dispatchEvent(
  new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
return { dragover: fire("dragover"), dropping: document.body.classList.contains("dropping"), drop: fire("drop") };
"""


@pytest.fixture
def server():
    """`motionworld serve` on a free port: (process, the page's address, its output lines so far)."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "motionworld", "serve", "garden", "--backend", "warp", "--size", "160",
         "--port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        # offline: the dropped photo's depth chain never fetches Depth Anything from the hub
        env={**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"})
    lines: list[str] = []
    found: list[str] = []
    ready = threading.Event()

    def read():  # drains the output all along, so a chatty server never blocks on a full pipe
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            m = re.search(rf"http://127\.0\.0\.1:{port}/\S*", line)
            if m and not found:
                found.append(m.group(0))
                ready.set()
        ready.set()  # the server exited

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(60) or not found:
        proc.kill()
        proc.wait()
        pytest.fail("the server did not print its address within 60 s:\n" + "\n".join(lines[-30:]))
    yield proc, found[0], lines
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _hold_w(driver, mw, canvas_png) -> tuple[int, str, str]:
    """Hold W for 2 s (on no element: a click would press the left button on the picture, a drag) until
    a frame has applied it: (frames drawn before, the canvas 0.6 s in, the canvas 2 s in)."""
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).key_down("w").perform()
    try:
        drawn = mw("framesDrawn")
        time.sleep(0.6)
        before = canvas_png()
        time.sleep(1.4)
        after = canvas_png()
        _wait("a frame that applied the input", lambda: mw("lastLatencyMs") is not None, 5)
    finally:
        ActionChains(driver).key_up("w").perform()
    return drawn, before, after


def test_play_in_the_browser(server, browser):
    from selenium.webdriver.common.by import By

    proc, url, lines = server
    driver = browser
    mw = lambda field: driver.execute_script(f"return window.motionworld && window.motionworld.{field}")  # noqa: E731
    canvas_png = lambda: driver.execute_script("return document.getElementById('frame').toDataURL()")  # noqa: E731

    driver.get(url)
    _wait("frames to arrive in the page", lambda: (mw("framesDrawn") or 0) > 5, 30)
    assert mw("connected") and mw("hello")["keys"]["KeyW"] == 26  # the window's keymap (SDL scancode of W)

    drawn, before, after = _hold_w(driver, mw, canvas_png)
    assert mw("framesDrawn") > drawn + 5, "frames stopped arriving while W was held"
    assert before != after, "walking forward did not change the picture"
    assert mw("lastFrame")["input_seq"] > 0

    latency = mw("lastLatencyMs")
    assert isinstance(latency, (int, float)) and math.isfinite(latency) and latency > 0, latency
    assert 0 < len(mw("latencies")) <= 20
    hud = _wait("the latency in the HUD", lambda: re.search(
        r"input to frame (\d+) ms", driver.find_element(By.ID, "hud").text), 2)
    assert int(hud.group(1)) >= 0

    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors

    shot = os.environ.get("MOTIONWORLD_SCREENSHOT")
    if shot:
        Path(shot).parent.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(shot), f"could not save a screenshot to {shot}"

    # Drop a photograph onto the page: the server makes its scene on the fly and plays it instead
    photo = _photo_jpeg()
    driver.execute_script("""
        window.__says = [];
        new MutationObserver((changes) => changes.forEach((c) => c.addedNodes.forEach(
          (n) => window.__says.push(n.textContent)))).observe(document.getElementById("says"), { childList: true });
    """)
    accepted = driver.execute_script(_DROP, "coffee.jpg", base64.b64encode(photo).decode("ascii"))
    assert accepted == {"dragover": True, "dropping": True, "drop": True}, accepted

    def photo_hello():  # the new hello, or fail at once where the server refused the picture
        refused = [text for text in driver.execute_script("return window.__says") if "refused" in text]
        if refused:
            pytest.fail(f"the server refused the photo: {refused}")
        hello = mw("hello")
        return hello if hello["scene"].startswith("picture-") else None

    hello = _wait("the photo's hello", photo_hello, 60)
    assert hello["backend"] == "warp" and hello["keys"]["KeyW"] == 26, hello
    drawn = mw("framesDrawn")
    _wait("the photo's frames to arrive", lambda: mw("framesDrawn") > drawn + 5, 30)
    photo_frame = canvas_png()
    assert photo_frame != before and photo_frame != after, "the page still shows the garden"

    drawn, before, after = _hold_w(driver, mw, canvas_png)
    assert mw("framesDrawn") > drawn + 5, "the photo's frames stopped arriving while W was held"
    assert before != after, "walking forward into the photo did not change the picture"
    assert mw("lastFrame")["input_seq"] > 0

    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors

    # Ctrl-C: the server says goodbye to the page and exits cleanly
    proc.send_signal(signal.SIGINT)
    try:
        rc = proc.wait(10)
    except subprocess.TimeoutExpired:
        pytest.fail("the server did not exit within 10 s of SIGINT:\n" + "\n".join(lines[-30:]))
    assert rc == 0, "\n".join(lines[-30:])
    _wait("the page to show it is disconnected",
          lambda: driver.find_element(By.ID, "phase").text.startswith("disconnected"), 3)
    assert mw("connected") is False
