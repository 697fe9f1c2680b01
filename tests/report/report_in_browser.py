#!/usr/bin/env python3
"""report.html (or compare.html) in headless Chromium: after a dry run, the report loads with its plots,
renders to a screenshot that is not blank, and logs no console message (the page has no script, so any
console message is an error: a failed load, a blocked resource). A control page with a throwing script
and nothing to see first proves that the checks can fail. With `compare`, the page is compare.html of
the dry run and a cosine baseline, and a script added to a copy of it clicks the compute-steps label
and checks that the model-step plots hide and the compute-step plots show (sizes from layout).

Usage: report_in_browser.py AUTOLRS_BINARY CONFIG [report|compare]
Exit 0 pass, 1 fail, 77 skip (no chromium; a failure with CI=true). AUTOLRS_REPORT_SCREENSHOT=path keeps the screenshot.
"""
import html
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


# Run in a copy of compare.html: measures each plot's <svg>, clicks the compute-steps label (as a user
# would), measures again and writes what it saw into the page for --dump-dom to read.
AXIS_PROBE = """<script>
const plots = ["lr", "train-loss", "val-loss"];
const sizes = axis => plots.map(plot => {
  const box = document.getElementById(plot + "-on-" + axis).getBoundingClientRect();
  return [Math.round(box.width), Math.round(box.height)];
});
const seen = {model_before: sizes("model-steps"), compute_before: sizes("compute-steps")};
document.querySelector('label[for="axis-compute-steps"]').click();
seen.compute_checked = document.getElementById("axis-compute-steps").checked;
seen.model_after = sizes("model-steps");
seen.compute_after = sizes("compute-steps");
const out = document.createElement("pre");
out.id = "axis-probe";
out.textContent = JSON.stringify(seen);
document.body.appendChild(out);
</script>"""


def check_report(autolrs, config, chromium, scratch, check, blank):
    """report.html of a dry run: its plots in the DOM, a screenshot that is not blank, no console message."""
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
    facts = check_screenshot(chromium, scratch, report, check, blank)
    print("report: %d stages, %s" % (stages, facts))


def check_compare(autolrs, config, chromium, scratch, check, blank):
    """compare.html of a dry run and its cosine baseline: both runs in the table, six plots that
    render, no console message, and a click on "compute steps" that swaps the visible plots."""
    search_dir, baseline_dir = os.path.join(scratch, "search"), os.path.join(scratch, "baseline")
    for command in (["run", config, "--dry-run", "--run-dir", search_dir],
                    ["baseline", config, "--schedule", "cosine", "--lr", "0.05", "--segments", "4", "--dry-run",
                     "--run-dir", baseline_dir],
                    ["report", search_dir, "--compare", baseline_dir]):
        subprocess.run([autolrs] + command, check=True, stdout=subprocess.DEVNULL, timeout=300)
    page = os.path.join(search_dir, "compare.html")

    dom, _ = chromium_run(chromium, scratch, ["--dump-dom", "file://" + page])
    check("<h1>2 runs compared</h1>" in dom, "the DOM has no <h1> naming the two runs")
    check(dom.count("<svg") == 6, "the DOM has %d <svg>, expected 6" % dom.count("<svg"))
    check(dom.count("<polyline") == 12, "the DOM has %d polylines, expected 12 (2 runs x 6 plots)" % dom.count("<polyline"))
    check("AutoLRS search" in dom and "baseline: cosine schedule, peak lr 0.05" in dom,
          "the table does not name both methods")
    facts = check_screenshot(chromium, scratch, page, check, blank)

    probe_page = os.path.join(scratch, "compare-probe.html")
    with open(page) as source, open(probe_page, "w") as out:
        out.write(source.read().replace("</body>", AXIS_PROBE + "\n</body>"))
    dom, log = chromium_run(chromium, scratch, ["--enable-logging=stderr", "--v=0", "--window-size=%d,%d" % (WIDTH, HEIGHT),
                                                "--dump-dom", "file://" + probe_page])
    messages = console_messages(log)
    check(not messages, "console messages of the probe page: " + " | ".join(messages))
    found = re.search(r'<pre id="axis-probe">(.*?)</pre>', dom, re.S)
    if not found:
        check(False, "the probe script wrote nothing")
        return
    seen = json.loads(html.unescape(found.group(1)))
    shown = lambda sizes: all(width > 0 and height > 0 for width, height in sizes)
    hidden = lambda sizes: all(width == 0 and height == 0 for width, height in sizes)
    check(shown(seen["model_before"]), "before the click the model-step plots are not all shown: %s" % seen)
    check(hidden(seen["compute_before"]), "before the click the compute-step plots are not all hidden: %s" % seen)
    check(seen["compute_checked"], "the click on the compute-steps label did not check its radio")
    check(hidden(seen["model_after"]), "after the click the model-step plots are not all hidden: %s" % seen)
    check(shown(seen["compute_after"]), "after the click the compute-step plots are not all shown: %s" % seen)
    print("compare: %s; plots before the click %s (model steps), after it %s (compute steps)"
          % (facts, seen["model_before"], seen["compute_after"]))


def check_screenshot(chromium, scratch, page, check, blank):
    """Screenshots `page`: no console message, and more in it than in a blank page. Returns its facts as text."""
    blank_size, blank_bytes = blank
    png = os.path.join(scratch, os.path.basename(page) + ".png")
    messages = screenshot(chromium, scratch, page, png)
    check(not messages, "console messages: " + " | ".join(messages))
    width, height, size, distinct = png_facts(png)
    check((width, height) == (WIDTH, HEIGHT), "screenshot is %dx%d" % (width, height))
    check(size > 5 * blank_size, "screenshot has %d bytes; a blank page has %d" % (size, blank_size))
    check(distinct > 2 * blank_bytes and distinct >= 64,
          "screenshot data has %d distinct byte values; a blank page has %d" % (distinct, blank_bytes))
    keep = os.environ.get("AUTOLRS_REPORT_SCREENSHOT")
    if keep:
        shutil.copyfile(png, keep)
    return "screenshot %dx%d, %d bytes (blank page %d), %d distinct byte values (blank %d)" % (
        width, height, size, blank_size, distinct, blank_bytes)


def main(argv):
    autolrs, config = argv[1], argv[2]
    page = argv[3] if len(argv) > 3 else "report"
    if page not in ("report", "compare"):
        print("usage: report_in_browser.py AUTOLRS_BINARY CONFIG [report|compare]")
        return 2
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
        (check_report if page == "report" else check_compare)(autolrs, config, chromium, scratch, check,
                                                              (blank_size, blank_bytes))

    for failure in failures:
        print("FAIL: " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
