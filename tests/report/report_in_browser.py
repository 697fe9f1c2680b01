#!/usr/bin/env python3
"""report.html in headless Chromium: after a dry run, the report loads with its plots, renders to a
screenshot that is not blank, and logs no console message (the page has no script, so any console
message is an error: a failed load, a blocked resource). A control page with a throwing script and
nothing to see first proves that the checks can fail.

Usage: report_in_browser.py AUTOLRS_BINARY CONFIG
Exit 0 pass, 1 fail, 77 skip (no chromium; a failure with CI=true). AUTOLRS_REPORT_SCREENSHOT=path keeps the screenshot.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zlib

SKIP = 77
WIDTH, HEIGHT = 1200, 3000


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_run(chromium, scratch, args):
    """Runs headless Chromium on a fresh profile; returns (stdout, stderr)."""
    profile = tempfile.mkdtemp(dir=scratch, prefix="profile-")
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", "--user-data-dir=" + profile] + args
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        raise AssertionError("chromium exited with %d: %s" % (done.returncode, done.stderr[-2000:]))
    return done.stdout, done.stderr


def console_messages(log):
    """Console messages Chromium logged (--enable-logging=stderr): lines like
    [..:INFO:CONSOLE(3)] "Uncaught Error: x", source: file:///... (3)."""
    return [line for line in log.splitlines() if ":CONSOLE(" in line or "Uncaught" in line]


def png_facts(path):
    """(width, height, file size, distinct byte values of the decompressed image data)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError(path + " is not a PNG")
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    idat, at = b"", 8
    while at < len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        kind = data[at + 4:at + 8]
        if kind == b"IDAT":
            idat += data[at + 8:at + 8 + length]
        at += 12 + length
    return width, height, len(data), len(set(zlib.decompress(idat)))


def screenshot(chromium, scratch, page, png):
    _, log = chromium_run(chromium, scratch, ["--enable-logging=stderr", "--v=0", "--hide-scrollbars",
                                              "--window-size=%d,%d" % (WIDTH, HEIGHT), "--screenshot=" + png,
                                              "file://" + page])
    return console_messages(log)


def main(argv):
    autolrs, config = argv[1], argv[2]
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI") == "true":  # in CI (.ci/run) a missing dependency fails the run
            print("FAIL: chromium is not installed; scripts/install-deps --test installs it")
            return 1
        print("SKIP: chromium is not installed; scripts/install-deps --test installs it")
        return SKIP
    failures = []

    def check(condition, message):
        if not condition:
            failures.append(message)

    with tempfile.TemporaryDirectory(prefix="autolrs-browser-") as scratch:
        # Control: a page with a throwing script and nothing else must be caught on both counts.
        control = os.path.join(scratch, "control.html")
        with open(control, "w") as out:
            out.write("<!DOCTYPE html><html><body><script>throw new Error('control')</script></body></html>")
        control_png = os.path.join(scratch, "control.png")
        control_messages = screenshot(chromium, scratch, control, control_png)
        if not any("control" in line for line in control_messages):
            raise AssertionError("the console check missed the control page's error; log format changed?")
        _, _, blank_size, blank_bytes = png_facts(control_png)

        run_dir = os.path.join(scratch, "run")
        subprocess.run([autolrs, "run", config, "--dry-run", "--run-dir", run_dir], check=True,
                       stdout=subprocess.DEVNULL, timeout=300)
        report = os.path.join(run_dir, "report.html")
        stages = len(re.findall(r"<tr class=\"trained\">", open(report).read()))
        check(stages >= 2, "the report's table lists %d trained stages" % stages)

        dom, _ = chromium_run(chromium, scratch, ["--dump-dom", "file://" + report])
        check("<h1>dry-run</h1>" in dom, "the DOM has no <h1> with the run's name")
        # The schedule and loss plots, and one plot per stage that ran probes (the default search: stage 0).
        with open(os.path.join(run_dir, "summary.json")) as summary:
            probed = sum(1 for stage in json.load(summary)["stages"] if stage["probes"])
        check(probed >= 1, "no stage ran probes")
        check(dom.count("<svg") == 2 + probed, "the DOM has %d <svg>, expected %d" % (dom.count("<svg"), 2 + probed))
        for plot in ("lr-schedule", "loss", "stage-0"):
            check('<svg id="%s"' % plot in dom, "the DOM lacks the %s plot" % plot)
        check(dom.count("<polyline") >= 3, "the DOM has %d polylines" % dom.count("<polyline"))
        check("<table>" in dom, "the DOM has no stage table")

        png = os.path.join(scratch, "report.png")
        messages = screenshot(chromium, scratch, report, png)
        check(not messages, "console messages: " + " | ".join(messages))
        width, height, size, distinct = png_facts(png)
        check((width, height) == (WIDTH, HEIGHT), "screenshot is %dx%d" % (width, height))
        check(size > 5 * blank_size, "screenshot has %d bytes; a blank page has %d" % (size, blank_size))
        check(distinct > 2 * blank_bytes and distinct >= 64,
              "screenshot data has %d distinct byte values; a blank page has %d" % (distinct, blank_bytes))
        keep = os.environ.get("AUTOLRS_REPORT_SCREENSHOT")
        if keep:
            shutil.copyfile(png, keep)
        print("report: %d stages, screenshot %dx%d, %d bytes (blank page %d), %d distinct byte values (blank %d)"
              % (stages, width, height, size, blank_size, distinct, blank_bytes))

    for failure in failures:
        print("FAIL: " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
