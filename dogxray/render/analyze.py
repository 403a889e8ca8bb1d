"""Output of `dogxray analyze`: the answer first (which node, which exception), then the
supporting numbers."""

from __future__ import annotations

from dogxray.monitor.invocations import of_requests
from dogxray.render import command, err, fit, out, plural
from dogxray.triage.results import Analysis, Concurrency, NodeBlame, Throttled

# continuation lines of a wrapped line, by the line's own indentation: under the text
# after "1. ", under the first trace id after "newest: "
HANGING = {0: 2, 2: 5, 5: 13}


def _pct(share: float) -> str:
    return f"{share * 100:.0f}%"


def _nodes(rows: list[NodeBlame], group: str) -> list[str]:
    return [
        f"  {i}. {r.node}: +{r.difference_ms:.1f} ms on average in {group} traces "
        f"(median {r.median_ms:.1f} vs {r.others_median_ms:.1f} ms; in "
        f"{_pct(r.share)} of {group}, {_pct(r.others_share)} of the others)"
        for i, r in enumerate(rows, 1)
    ]


def _throttles(throttled: Throttled, traces: int) -> list[str]:
    """Throttled requests as their own cause: who refused them and the concurrency that
    made Lambda do it."""
    count, nodes = throttled.count, throttled.nodes
    at = nodes[0].node if len(nodes) == 1 else ", ".join(f"{n.node} ({n.count})" for n in nodes)
    verb = "was" if count == 1 else "were"
    lines = [f"throttled: {count} of {traces} {verb} refused with HTTP 429 by {at}"]
    if throttled.concurrency is not None:
        lines.append(f"  {_cap(throttled.concurrency)}")
    lines.append(f"     newest: {', '.join(throttled.examples)}")
    return lines


def _cap(limits: Concurrency) -> str:
    reserved, account = limits.reserved, limits.account_limit
    if limits.limit == "reserved" and reserved == 0:
        return "the function's reserved concurrency is 0: Lambda refuses every request"
    if limits.limit == "reserved":
        return (
            f"Lambda throttles requests beyond the function's reserved concurrency "
            f"({reserved} at once)"
        )
    if limits.limit == "account":
        unreserved = limits.unreserved
        if account is None:
            figure = f"not read: {'; '.join(limits.unknown)}"
        elif unreserved is None:
            figure = f"{account} at once"
        else:
            figure = f"{account} at once, {unreserved} not reserved by any function"
        return (
            "Lambda throttles requests beyond the account's concurrency limit "
            f"({figure}); the function reserves none"
        )
    return (
        "Lambda throttles requests beyond the function's reserved or the account's "
        f"concurrency; not read: {'; '.join(limits.unknown)}"
    )


def analysis(doc: Analysis, function: str) -> None:
    if doc.note:
        err.print(doc.note, markup=False)
    if not doc.traces:
        return
    slow, faulty = doc.slow, doc.faulty
    how = f"twice the median {slow.median_ms:.1f} ms" if slow.derived else "the threshold you gave"
    lines = [
        f"{plural(doc.traces, 'trace')} of {function} from {doc.start} to {doc.end}"
        + of_requests(doc.requests),
        f"slow: {slow.count} of {slow.count + slow.others} took over "
        f"{slow.threshold_ms:.1f} ms ({how})",
    ]
    if slow.count:
        lines += _nodes(slow.nodes, "slow") or ["  no single node explains it"]
    origins = ", ".join(f"{o.node} ({o.count})" for o in faulty.origins)
    lines.append(
        f"faulty: {faulty.count} of {doc.traces} failed"
        + (f"; the faults start at {origins}" if origins else "")
    )
    for c in faulty.exceptions:
        lines.append(f"  {c.type} on {c.node} x{c.count}: {c.message}")
        lines.append(f"     newest: {', '.join(c.traces)}")
    if doc.throttled.count:
        lines += _throttles(doc.throttled, doc.traces)
    for line in lines:
        lead = len(line) - len(line.lstrip(" "))
        for part in fit(line, " " * HANGING.get(lead, lead + 2), hard=True):
            out.print(part, markup=False)
    if doc.examples:
        err.print(f"next: `{command(f'trace {doc.examples[0]}')}` shows one of them", markup=False)
