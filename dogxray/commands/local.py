"""`dogxray local`: the embedded emulator in the foreground until Ctrl-C."""

from __future__ import annotations

import signal
import threading

import typer

from dogxray import render
from dogxray.cli import registrar
from dogxray.core.config import (
    ENV_LOCAL_CONCURRENCY,
    ENV_LOCAL_INDEXED_PERCENT,
    ENV_LOCAL_TRACE_ALL,
    ENV_LOCAL_TRANSACTION_SEARCH,
    LOCAL_CONCURRENCY,
    LOCAL_CONCURRENCY_MAX,
)

app = typer.Typer()
command = registrar(app)


@command("local")
def local(
    ctx: typer.Context,
    port: int = typer.Option(
        4566, "--port", min=0, max=65535, help="AWS endpoint port on 127.0.0.1 (0 = any free)"
    ),
    concurrency: int | None = typer.Option(
        None,
        "--concurrency",
        min=1,
        max=LOCAL_CONCURRENCY_MAX,
        help="account limit of busy execution environments; more requests get 429 "
        f"[default: ${ENV_LOCAL_CONCURRENCY} or {LOCAL_CONCURRENCY}]",
    ),
    trace_all: bool | None = typer.Option(
        None,
        "--trace-all/--sample",
        help="trace every request of an Active function, or sample as Lambda does "
        f"(1 request a second per function and 5 % of the rest) [default: ${ENV_LOCAL_TRACE_ALL} "
        "or --sample]",
    ),
    transaction_search: bool | None = typer.Option(
        None,
        "--transaction-search/--xray-destination",
        help="behave as an account with CloudWatch Transaction Search: spans go to the "
        "aws/spans log group, a share of traces is indexed, BatchGetTraces finds none "
        f"[default: ${ENV_LOCAL_TRANSACTION_SEARCH} or --xray-destination]",
    ),
    indexed_percent: float | None = typer.Option(
        None,
        "--indexed-percent",
        help="with --transaction-search: the percentage of traces X-Ray indexes as trace "
        f"summaries [default: ${ENV_LOCAL_INDEXED_PERCENT} or 1, AWS's default]",
    ),
) -> None:
    """Run the offline emulator until Ctrl-C; point other commands at it with the printed
    `export` lines (AWS endpoint, dummy credentials)."""
    from dogxray.local import Emulator

    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        emu = Emulator(
            port=port,
            concurrency=concurrency,
            trace_all=trace_all,
            transaction_search=transaction_search,
            indexed_percent=indexed_percent,
        ).start()
        try:
            for name, value in emu.client_env.items():
                render.data(f"export {name}={value}")
            render.progress(
                f"dogxray emulator on 127.0.0.1: AWS endpoint {emu.endpoint_url}, "
                f"Function URLs under {emu.gateway_url}/, Dog API {emu.dog_api_url}; "
                f"up to {emu.concurrency} concurrent execution environments; "
                + (
                    "every request traced (--trace-all)"
                    if emu.trace_all
                    else "X-Ray samples as Lambda does: 1 request a second per function "
                    "and 5 % of the rest (--trace-all traces every one)"
                )
            )
            if emu.transaction_search:
                render.progress(
                    "Transaction Search account: spans go to the aws/spans log group, "
                    f"X-Ray indexes {emu.indexed_percent:g} % of traces as summaries, and "
                    "BatchGetTraces returns none (read them with StartTraceRetrieval)"
                )
            render.progress("run the export lines above in another shell; Ctrl-C stops")
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
        finally:
            # A second Ctrl-C must not cut the shutdown short (it is bounded).
            interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                emu.stop()
            finally:
                signal.signal(signal.SIGINT, interrupt)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if emu.leftover is None:
        render.progress("emulator stopped; its temporary files are removed")
    else:
        render.progress(
            f"emulator stopped; could not remove its temporary folder {emu.leftover} "
            f"({emu.leftover_reason}); the next `dogxray local` removes it"
        )
