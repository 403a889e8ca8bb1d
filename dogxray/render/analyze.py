"""Output of `dogxray analyze`: the answer first (which node, which exception), then the
supporting numbers."""

from __future__ import annotations

from typing import Any

from dogxray.render import err, fit, out, plural

# continuation lines of a wrapped line, by the line's own indentation: under the text
# after "1. ", under the first trace id after "newest: "
HANGING = {0: 2, 2: 5, 5: 13}


def _pct(share: float) -> str:
    return f"{share * 100:.0f}%"


def _nodes(rows: list[dict[str, Any]], group: str) -> list[str]:
    return [
        f"  {i}. {r['node']}: +{r['difference_ms']:.1f} ms on average in {group} traces "
        f"(median {r['median_ms']:.1f} vs {r['others_median_ms']:.1f} ms; in "
        f"{_pct(r['share'])} of {group}, {_pct(r['others_share'])} of the others)"
        for i, r in enumerate(rows, 1)
    ]


def analysis(doc: dict[str, Any], function: str) -> None:
    if doc.get("note"):
        err.print(doc["note"], markup=False)
    if not doc["traces"]:
        return
    slow, faulty = doc["slow"], doc["faulty"]
    how = (
        f"twice the median {slow['median_ms']:.1f} ms"
        if slow["derived"]
        else "the threshold you gave"
    )
    lines = [
        f"{plural(doc['traces'], 'trace')} of {function} from {doc['window']['start']} to "
        f"{doc['window']['end']}",
        f"slow: {slow['count']} of {doc['traces']} took over {slow['threshold_ms']:.1f} ms ({how})",
    ]
    if slow["count"]:
        lines += _nodes(slow["nodes"], "slow") or ["  no single node explains it"]
    origins = ", ".join(f"{o['node']} ({o['count']})" for o in faulty["origins"])
    lines.append(
        f"faulty: {faulty['count']} of {doc['traces']} failed"
        + (f"; the faults start at {origins}" if origins else "")
    )
    for c in faulty["exceptions"]:
        lines.append(f"  {c['type']} on {c['node']} x{c['count']}: {c['message']}")
        lines.append(f"     newest: {', '.join(c['traces'])}")
    for line in lines:
        lead = len(line) - len(line.lstrip(" "))
        for part in fit(line, " " * HANGING.get(lead, lead + 2), hard=True):
            out.print(part, markup=False)
    example = (slow["examples"] or [c["traces"][0] for c in faulty["exceptions"]] or [None])[0]
    if example:
        err.print(f"next: `dogxray trace {example}` shows one of them", markup=False)
