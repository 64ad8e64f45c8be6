"""The README's browser screenshot (docs/browser.png): `motionworld serve` with what a user gets by
default (the shipped garden and student), played in headless Chromium for a few seconds with W held.

    .venv/bin/python docs/make_browser_screenshot.py [--backend neural] [--out docs/browser.png]
"""
from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "browser.png")
    ap.add_argument("--walk", type=float, default=1.2, help="seconds of W before the shot")
    a = ap.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "motionworld", "serve", "garden", "--backend", a.backend,
                               "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    url = None
    for line in server.stdout:
        print(line, end="")
        m = re.search(r"http://127\.0\.0\.1:\d+/\S*", line)
        if m:
            url = m.group(0)
            break
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1100,720",
                f"--user-data-dir={tempfile.mkdtemp()}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    try:
        driver.get(url)
        while not driver.execute_script("return window.motionworld && window.motionworld.framesDrawn > 12"):
            time.sleep(0.2)
        ActionChains(driver).key_down("w").perform()
        time.sleep(a.walk)
        ActionChains(driver).key_up("w").perform()
        time.sleep(2.0)  # the HUD has a latency to show
        driver.save_screenshot(str(a.out))
        print(f"wrote {a.out}")
    finally:
        driver.quit()
        server.send_signal(signal.SIGINT)
        server.wait(20)


if __name__ == "__main__":
    main()
