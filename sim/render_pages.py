#!/usr/bin/python3
"""Renders pages in one headless Chromium: a PNG of each, and its DOM after load.

    render_pages.py --page URL WIDTHxHEIGHT PNG DOM|- [--page ...]

One browser for every page (each launch costs about 1.5 CPU seconds here),
driven through the DevTools protocol over a pipe (--remote-debugging-pipe: the
browser reads commands on its fd 3 and answers on its fd 4, each message JSON
ended by a NUL byte). Each page gets a tab of its own with a WIDTHxHEIGHT
viewport; once its load event fired, the viewport is saved as PNG and, unless
DOM is '-', the serialised DOM (what `chromium --dump-dom` prints) is written
to DOM. Exit 0 when every page was rendered, 1 when the browser failed (one
line says which page and why), 64 on a bad argument.
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

DEADLINE_S = 60.0
# What --dump-dom prints: the doctype, then the document's markup as the scripts left it.
SERIALISE_DOM = ("(document.doctype ? new XMLSerializer().serializeToString(document.doctype) + '\\n' : '')"
                 " + document.documentElement.outerHTML")


class Browser:
    def __init__(self, executable, profile):
        commands_read, self.commands = os.pipe()
        self.answers, answers_write = os.pipe()

        def descriptors():  # in the child: the protocol's fds 3 and 4
            os.dup2(commands_read, 3)
            os.dup2(answers_write, 4)

        self.process = subprocess.Popen(
            [executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(3, 4), preexec_fn=descriptors, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(commands_read)
        os.close(answers_write)
        self.pending = b""
        self.next_id = 0
        self.events = []
        self.deadline = time.monotonic() + DEADLINE_S

    def message(self):
        while b"\0" not in self.pending:
            if time.monotonic() > self.deadline:
                raise RuntimeError(f"no answer within {DEADLINE_S:.0f} s")
            chunk = os.read(self.answers, 1 << 20)
            if not chunk:
                raise RuntimeError("the browser closed its end of the pipe")
            self.pending += chunk
        text, self.pending = self.pending.split(b"\0", 1)
        return json.loads(text)

    def call(self, method, params=None, session=None):
        self.next_id += 1
        request = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            request["sessionId"] = session
        os.write(self.commands, json.dumps(request).encode() + b"\0")
        while True:
            answer = self.message()
            if answer.get("id") != self.next_id:
                if "method" in answer:
                    self.events.append(answer)
                continue
            if "error" in answer:
                raise RuntimeError(f"{method}: {answer['error'].get('message', answer['error'])}")
            return answer.get("result", {})

    def wait_event(self, method, session):
        while True:
            for index, event in enumerate(self.events):
                if event.get("method") == method and event.get("sessionId") == session:
                    return self.events.pop(index)
            answer = self.message()
            if "method" in answer:
                self.events.append(answer)

    def close(self):
        try:
            self.call("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def render(browser, url, width, height, png, dom):
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    browser.call("Page.enable", session=session)
    browser.call("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
    navigation = browser.call("Page.navigate", {"url": url}, session=session)
    if navigation.get("errorText"):
        raise RuntimeError(f"{url}: {navigation['errorText']}")
    browser.wait_event("Page.loadEventFired", session)
    shot = browser.call("Page.captureScreenshot", {"format": "png"}, session=session)
    with open(png, "wb") as out:
        out.write(base64.b64decode(shot["data"]))
    if dom != "-":
        page = browser.call("Runtime.evaluate", {"expression": SERIALISE_DOM, "returnByValue": True}, session=session)
        with open(dom, "w", encoding="utf-8") as out:
            out.write(page["result"]["value"] + "\n")
    browser.call("Target.closeTarget", {"targetId": target})


def main(argv):
    pages = []
    rest = argv[1:]
    while rest:
        if rest[0] != "--page" or len(rest) < 5 or not re.fullmatch(r"[1-9][0-9]{1,4}x[1-9][0-9]{1,4}", rest[2]):
            print("render_pages.py: usage: --page URL WIDTHxHEIGHT PNG DOM|- [--page ...]", file=sys.stderr)
            return 64
        width, height = (int(part) for part in rest[2].split("x"))
        pages.append((rest[1], width, height, rest[3], rest[4]))
        rest = rest[5:]
    if not pages:
        print("render_pages.py: usage: --page URL WIDTHxHEIGHT PNG DOM|- [--page ...]", file=sys.stderr)
        return 64
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        print("render_pages.py: chromium is not installed (ci/deps.sh installs it)", file=sys.stderr)
        return 1
    profile = tempfile.mkdtemp(prefix="render-pages-")
    browser = Browser(executable, profile)
    status = 0
    try:
        for url, width, height, png, dom in pages:
            try:
                render(browser, url, width, height, png, dom)
            except (RuntimeError, OSError, KeyError, ValueError) as problem:
                print(f"render_pages.py: {url}: {problem}", file=sys.stderr)
                status = 1
                break
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
