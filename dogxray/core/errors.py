"""The one error type the CLI renders: what failed, where, and what to do about it.

Anything expected (bad input, an AWS refusal, missing credentials, an unreachable
endpoint, nothing deployed yet) is raised as a `DogxrayError`; the CLI prints it as one
message with a hint and no traceback (unless `--debug`).
"""

from __future__ import annotations

EXIT_FAILED = 1
EXIT_USAGE = 2


class DogxrayError(Exception):
    """An expected failure, shown to the user as `what` (+ `where`) and a `hint`."""

    def __init__(
        self,
        what: str,
        *,
        where: str | None = None,
        hint: str | None = None,
        exit_code: int = EXIT_FAILED,
    ) -> None:
        super().__init__(what)
        self.what = what
        self.where = where
        self.hint = hint
        self.exit_code = exit_code

    @classmethod
    def usage(cls, what: str, *, hint: str | None = None, where: str | None = None) -> DogxrayError:
        """Bad usage or bad input (exit code 2)."""
        return cls(what, where=where, hint=hint, exit_code=EXIT_USAGE)

    def __str__(self) -> str:
        text = self.what if not self.where else f"{self.what} ({self.where})"
        return text if not self.hint else f"{text}\nhint: {self.hint}"
