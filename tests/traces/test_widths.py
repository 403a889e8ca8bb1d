"""Text output fits the terminal: exact output of a recorded trace at 80 and 60
columns (COLUMNS), every line within the width except an unbreakable URL; JSON output
does not depend on the width."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.render import traces as show
from dogxray.traces.analysis import analyse, root_cause, stats
from dogxray.traces.model import build_trace, node_json
from dogxray.traces.service import TraceDetail, TraceList
from tests.traces.tracedocs import NAMES, load, put


def _rows() -> list[Any]:
    rows = [analyse(build_trace(load(n)["trace_id"], load(n)["documents"])) for n in NAMES[:4]]
    return sorted(rows, key=lambda r: r.start, reverse=True)


def _detail() -> TraceDetail:
    rec = load("fault_separate")
    trace = build_trace(rec["trace_id"], rec["documents"])
    nodes = [node_json(n, trace) for n in trace.roots]
    return TraceDetail(trace.id, trace.duration_ms, root_cause(trace), nodes)


TABLE_80 = """\
TIME UTC  TRACE ID                             HTTP  TOTAL ms  DOG API  S3 SAVE
2025-11-24
16:03:00  1-69248104-0000000000005a17c0de0004     -     431.0    410.0        -
          partial
16:02:00  1-69248103-0000000000005a17c0de0003   502     820.0    410.0     95.0
          FAULT,ERROR  save_dog_to_s3: AccessDenied
16:01:00  1-69248102-0000000000005a17c0de0002   502     910.0    410.0     95.0
          FAULT,ERROR  save_dog_to_s3: NoSuchBucket
16:00:00  1-69248101-0000000000005a17c0de0001   200   1,160.0    410.0     95.0
"""

WATERFALL_80 = """\
trace 1-69248102-0000000000005a17c0de0002  910.0 ms
root cause: save_dog_to_s3: NoSuchBucket: The specified bucket does not exist
  (remote)
START ms    DUR ms                  NODE
     0.0     910.0  |############|  dog-photo-function  FAULT  HTTP 502
    10.0     890.0  |############|    dog-photo-function  FAULT  (AWS::Lambda::…
    20.0     860.0  |########### |      Invocation
    30.0     790.0  |##########  |      get_dog_images  FAULT
    31.0     410.0  |#####       |        call_dog_api
    32.0     138.0  |##          |          dog.ceo  HTTP 200
   171.0     269.0  |  ####      |          images.dog.ceo  HTTP 200
   442.0      95.0  |     #      |        save_dog_to_s3  FAULT
   443.0      93.0  |     #      |          S3  FAULT,ERROR  HTTP 404
                                              ! NoSuchBucket: The specified
                                                bucket does not exist (remote)
console:
https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#xray:traces/1-69248102-0000000000005a17c0de0002
"""

STATS_80 = """\
4 traces, 2 faults, 2 errors
window 2025-11-24T16:00:00.000Z .. 2025-11-24T17:00:00.000Z
SUBSEGMENT      COUNT  P50 ms  P95 ms  P99 ms  MAX ms  FAULTS
get_dog_images      4   790.0   790.0   790.0   790.0   50.0%
call_dog_api        4   410.0   410.0   410.0   410.0    0.0%
save_dog_to_s3      3    95.0    95.0    95.0    95.0   66.7%
"""

TABLE_60 = """\
TIME UTC TRACE ID                            HTTP TOTAL ms
2025-11-24
16:03:00 1-69248104-0000000000005a17c0de0004    -    431.0
         api 410.0  s3 -  partial
16:02:00 1-69248103-0000000000005a17c0de0003  502    820.0
         api 410.0  s3 95.0  FAULT,ERROR  save_dog_to_s3:
           AccessDenied
16:01:00 1-69248102-0000000000005a17c0de0002  502    910.0
         api 410.0  s3 95.0  FAULT,ERROR  save_dog_to_s3:
           NoSuchBucket
16:00:00 1-69248101-0000000000005a17c0de0001  200  1,160.0
         api 410.0  s3 95.0
"""

WATERFALL_60 = """\
trace 1-69248102-0000000000005a17c0de0002  910.0 ms
root cause: save_dog_to_s3: NoSuchBucket: The specified
  bucket does not exist (remote)
START ms    DUR ms              NODE
     0.0     910.0  |########|  dog-photo-function  FAULT
    10.0     890.0  |########|    dog-photo-function  FAULT
    20.0     860.0  |########|      Invocation
    30.0     790.0  |####### |      get_dog_images  FAULT
    31.0     410.0  |####    |        call_dog_api
    32.0     138.0  |#       |          dog.ceo  HTTP 200
   171.0     269.0  | ##     |          images.dog.ceo
   442.0      95.0  |   #    |        save_dog_to_s3  FAULT
   443.0      93.0  |   #    |          S3  FAULT,ERROR
                                          ! NoSuchBucket:
                                            The specified
                                            bucket does not
                                            exist (remote)
console:
https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#xray:traces/1-69248102-0000000000005a17c0de0002
"""

STATS_60 = """\
4 traces, 2 faults, 2 errors
window 2025-11-24T16:00:00.000Z .. 2025-11-24T17:00:00.000Z
SUBSEGMENT      COUNT  P50 ms  P99 ms  MAX ms  FAULTS
get_dog_images      4   790.0   790.0   790.0   50.0%
call_dog_api        4   410.0   410.0   410.0    0.0%
save_dog_to_s3      3    95.0    95.0    95.0   66.7%
"""


@pytest.mark.parametrize("columns", [80, 60])
def test_exact_output_at_narrow_widths(
    columns: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    expected = {80: (TABLE_80, WATERFALL_80, STATS_80), 60: (TABLE_60, WATERFALL_60, STATS_60)}
    show.table(TraceList(_rows()))
    assert capsys.readouterr().out == expected[columns][0]
    show.waterfall(_detail(), region="eu-west-1", is_local=False)
    assert capsys.readouterr().out == expected[columns][1]
    show.stats_table(stats(_rows(), (1764000000.0, 1764003600.0)))
    assert capsys.readouterr().out == expected[columns][2]


@pytest.mark.parametrize("columns", [60, 70, 80, 90, 100, 110, 120])
def test_every_line_fits_down_to_60_columns(
    columns: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    show.table(TraceList(_rows()))
    show.waterfall(_detail(), region="eu-west-1", is_local=False)
    show.stats_table(stats(_rows(), (1764000000.0, 1764003600.0)))
    lines = capsys.readouterr().out.splitlines()
    too_long = [line for line in lines if len(line) > columns and not line.startswith("https://")]
    assert too_long == []


@pytest.mark.slow
def test_json_does_not_depend_on_the_width(aws_mock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (tid,) = put(aws_mock, ["fault_separate"])
    runner = CliRunner()
    docs = []
    for columns in ("60", "200"):
        monkeypatch.setenv("COLUMNS", columns)
        listing = runner.invoke(app, ["traces", "-o", "json"])
        detail = runner.invoke(app, ["trace", tid, "-o", "json"])
        docs.append((json.loads(listing.stdout), detail.stdout))
    assert docs[0] == docs[1]
