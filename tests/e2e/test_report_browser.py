"""`dogxray report` after the emulator runs the lab (setup, test, break-bucket, test),
loaded in headless Chromium: no console errors, no network requests, the map and a
fault waterfall in the DOM with their numbers, and a screenshot that is not blank.

Console messages come from Chromium's own log (`--enable-logging=stderr`), requests from
its NetLog (`--log-net-log`): no DevTools client needed. Each check is first shown to
catch a page that does have the defect."""

from __future__ import annotations

import json
import re
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from tests.e2e.e2e_cli import CHROMIUM, CHROMIUM_FLAGS, Cli

pytestmark = pytest.mark.e2e

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (`apt-get install chromium`; .ci/run installs it)",
)
RESOURCE = re.compile(
    r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""",
    re.I,
)


def chromium(page: Path, tmp: Path, *mode: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run headless Chromium on `page`; the result and its NetLog file."""
    netlog = tmp / f"netlog-{len(list(tmp.glob('netlog-*')))}.json"
    assert CHROMIUM is not None
    result = subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            "--proxy-server=http://127.0.0.1:9",  # the browser's own calls go nowhere
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            f"--log-net-log={netlog}",
            f"--user-data-dir={tmp / 'profile'}",
            "--virtual-time-budget=5000",
            *mode,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp,
        env={"HOME": str(tmp), "PATH": "/usr/bin:/bin"},
    )
    return result, netlog


def console_errors(stderr: str) -> list[str]:
    """Console messages of the page (Chromium logs them as `CONSOLE(line)] "text"`)
    and uncaught script errors."""
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def requested_urls(netlog: Path) -> list[str]:
    """URLs the page requested, from the NetLog: requests with a document initiator
    (the browser's own background calls are "not an origin"), except file: URLs."""
    text = netlog.read_text()
    if not text.rstrip().endswith("}"):  # a NetLog cut short still lists its events
        text = text.rstrip().rstrip(",") + "]}"
    events = json.loads(text).get("events", [])
    urls = {
        str(e["params"].get("url", ""))
        for e in events
        if e.get("params", {}).get("initiator") not in (None, "not an origin")
    }
    return sorted(u for u in urls if u and not u.startswith(("file:", "data:", "about:")))


def png_colours(path: Path) -> int:
    """Distinct pixel colours of a screenshot (8-bit RGB/RGBA PNG, unfiltered here)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 4
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    colours: set[bytes] = set()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        colours.update(bytes(line[i : i + channels]) for i in range(0, stride, channels * 7))
        previous = line
    return len(colours)


def attribute(dom: str, element: str, name: str) -> str:
    match = re.search(element + r"[^>]*?\b" + name + r'="([^"]*)"', dom)
    assert match, f"{element} with {name} not in the DOM"
    return match[1]


@pytest.mark.slow
@needs_chromium
def test_the_checks_catch_a_defective_page(tmp_path: Path) -> None:
    """A console error, a network request and a blank page are each detected."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<html><body><img src='http://127.0.0.1:9/pixel.png'>"
        "<script>console.error('broken page')</script></body></html>"
    )
    assert RESOURCE.findall(bad.read_text()) == ["src='http://"]
    assert RESOURCE.findall("<style>b { background: url( 'https://x/y.png') }</style>")
    result, netlog = chromium(bad, tmp_path, "--dump-dom")
    assert any("broken page" in line for line in console_errors(result.stderr)), result.stderr
    assert "http://127.0.0.1:9/pixel.png" in requested_urls(netlog)
    blank = tmp_path / "blank.html"
    blank.write_text("<html><body></body></html>")
    chromium(blank, tmp_path, "--screenshot=blank.png", "--window-size=800,600")
    assert png_colours(tmp_path / "blank.png") <= 2


@pytest.mark.slow
@needs_chromium
@pytest.mark.browser
def test_report_after_the_lab_loads_cleanly(emulator_cli: Cli, tmp_path: Path) -> None:
    cli = emulator_cli
    cli("setup")
    assert cli.json("test")[0]["ok"]
    cli("break-bucket")
    assert cli("test", check=False).returncode == 1
    fault = next(t for t in cli.json("traces", "--errors")["traces"] if t["fault"])

    out = cli("report", "--file", str(tmp_path / "r.html"))
    page = tmp_path / "r.html"
    assert out.stdout.splitlines()[-1] == str(page)
    assert out.stdout.startswith("report of 2 traces (1 fault), 2 waterfalls, ")
    html = page.read_text()
    assert RESOURCE.findall(html) == [], "the page references an outside resource"
    assert "<script" not in html  # nothing to run

    result, netlog = chromium(page, tmp_path, "--dump-dom")
    dom = result.stdout
    assert console_errors(result.stderr) == []
    assert requested_urls(netlog) == []
    # the map, with its numbers
    assert attribute(dom, 'id="service-map"', "data-nodes") == "6"
    function = re.search(r'<g class="map-node"[^>]*data-type="AWS::Lambda::Function"[^>]*>', dom)
    assert function, dom[:2000]
    assert 'data-requests="2"' in function[0] and 'data-fault="1"' in function[0]
    bucket = re.search(r'<g class="map-node"[^>]*data-type="AWS::S3::Bucket"[^>]*>', dom)
    assert bucket and 'data-name="aws-bucket"' in bucket[0] and 'data-fault="1"' in bucket[0]
    # the fault trace's waterfall, with its duration, exception and log lines
    article = re.search(r'<article class="wf waterfall" id="t-' + fault["id"] + r'"[^>]*>', dom)
    assert article and f'data-duration-ms="{fault["duration_ms"]}"' in article[0]
    assert 'data-reason="fault"' in article[0]
    section = dom[article.end() : dom.index("</article>", article.end())]
    assert "NoSuchBucket" in section and "save_dog_to_s3" in section
    assert '<pre class="logs"' in section and "REPORT" in section
    # the histogram and the table
    assert attribute(dom, 'id="histogram"', "data-bins") in ("1", "10")
    assert dom.count('<tr class="fault">') == 1

    chromium(page, tmp_path, "--screenshot=report.png", "--window-size=1200,1600")
    assert png_colours(tmp_path / "report.png") > 20

    cli("cleanup", "--yes")
