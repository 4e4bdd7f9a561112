"""Headless Chromium driven over the DevTools protocol, for tests that must measure a rendered page
(what is shown, how wide a box is) or screenshot part of it: ``--dump-dom`` gives markup only.

The protocol runs over a pipe (``--remote-debugging-pipe``: file descriptors 3 and 4 of the browser,
JSON messages ended by a NUL byte), so no port is opened and nothing but the standard library is
needed. Offline like ``test_feedback_html.chromium``: every host name resolves to nothing (with
``loopback``, 127.0.0.1 stays reachable for a test's own server). The browser dies with the tests.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from catkit.parent_death import die_with_parent

CHROMIUM = shutil.which("chromium")


class Browser:
    def __init__(self, profile: Path, width: int = 1300, height: int = 1000, loopback: bool = False) -> None:
        assert CHROMIUM is not None, "needs headless Chromium"
        rules = "MAP * ~NOTFOUND" + (", EXCLUDE 127.0.0.1" if loopback else "")
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def child() -> None:  # the browser reads commands on fd 3, answers on fd 4
            die_with_parent()
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser_read, from_browser_write)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.process = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", f"--host-resolver-rules={rules}", f"--user-data-dir={profile}",
             f"--window-size={width},{height}", "--remote-debugging-pipe", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=child,
            pass_fds=(3, 4))
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        target = self.command("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.command("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.command("Page.enable", session=True)
        self.command("Emulation.setDeviceMetricsOverride", session=True, width=width, height=height,
                     deviceScaleFactor=1, mobile=False)

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return dict(json.loads(message))

    def command(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return dict(answer.get("result", {}))
            self.events.append(answer)

    def open(self, url: str, timeout: float = 30.0) -> None:
        """Go to ``url`` and wait for its load event (a same-page #anchor: for the scroll)."""
        self.events.clear()
        self.command("Page.navigate", session=True, url=url)
        end = time.monotonic() + timeout
        while not any(e.get("method") in ("Page.loadEventFired", "Page.navigatedWithinDocument")
                      for e in self.events):
            if time.monotonic() > end:
                raise TimeoutError(f"{url} did not load within {timeout} s")
            self.events.append(self._read())
        time.sleep(0.3)  # layout after the load event (a page's own scripts, fonts)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (DevTools runs it whatever the page's
        Content-Security-Policy: the page itself may still forbid scripts)."""
        result = self.command("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, selector: str | None = None, full_page: bool = False, margin: int = 12) -> Path:
        """A PNG of the element ``selector`` (scrolled to the middle of the window, with ``margin``
        pixels around it), of the whole page, or of the window."""
        params: dict[str, Any] = {"format": "png"}
        if selector is not None:
            box = self.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
                                "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); "
                                "return [r.x + scrollX, r.y + scrollY, r.width, r.height, innerHeight]; })()")
            x, y, width, height, window = box
            params["clip"] = {"x": max(x - margin, 0), "y": max(y - margin, 0), "width": width + 2 * margin,
                              "height": height + 2 * margin, "scale": 1}
            params["captureBeyondViewport"] = height + 2 * margin > window  # (fixed bars drawn where they are)
        elif full_page:
            width, height = self.evaluate("[document.documentElement.scrollWidth, "
                                          "document.documentElement.scrollHeight]")
            params.update(clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
                          captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(self.command("Page.captureScreenshot", session=True, **params)["data"]))
        return path

    def close(self) -> None:
        try:
            os.write(self._to_browser, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
