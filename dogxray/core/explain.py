"""What a botocore exception means for the user: one DogxrayError with a hint (no
credentials, an expired session, a timeout, access denied, throttling...), asking
`endpoint_check` first whether the answer came from an AWS endpoint at all."""

from __future__ import annotations

from urllib.parse import urlsplit

import botocore.exceptions as bex

from dogxray.core.aws import TIMEOUT_ATTEMPTS, error_code, error_message
from dogxray.core.config import READ_TIMEOUT_S
from dogxray.core.endpoint_check import endpoint_not_aws, not_an_aws_endpoint
from dogxray.core.errors import DogxrayError


def _origin(url: str) -> str:
    """`http://host:port` of a request URL (the endpoint the user gave, not the path)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else url


def _seconds(value: float) -> str:
    return f"{value:g}"


def explain(
    exc: BaseException, where: str | None = None, endpoint_url: str | None = None
) -> DogxrayError | None:
    """Turn a botocore exception into a DogxrayError with a hint; None if it is not one.
    `endpoint_url`: the custom endpoint in force, if any (for answers that are not AWS's)."""
    not_aws = not_an_aws_endpoint(exc, endpoint_url)
    if not_aws is not None:
        return not_aws
    if isinstance(exc, bex.NoCredentialsError | bex.PartialCredentialsError):
        return DogxrayError(
            "no AWS credentials found",
            where=where,
            hint="run `aws configure` or `aws sso login`, set AWS_PROFILE, or try the offline "
            "emulator with `dogxray demo --local`",
        )
    if isinstance(exc, bex.ProfileNotFound):
        return DogxrayError.usage(str(exc), hint="check `aws configure list-profiles`")
    if isinstance(exc, bex.TokenRetrievalError | bex.SSOTokenLoadError):
        return DogxrayError(
            "your AWS SSO session has expired", where=where, hint="run `aws sso login`"
        )
    if isinstance(exc, bex.ReadTimeoutError):
        url = _origin(str(getattr(exc, "kwargs", {}).get("endpoint_url") or "the AWS endpoint"))
        seconds = getattr(exc, "waited_s", READ_TIMEOUT_S)
        waited = f"{_seconds(seconds)} s, tried {TIMEOUT_ATTEMPTS} times"
        if ".amazonaws.com" in url or url == "the AWS endpoint":
            return DogxrayError(
                f"AWS did not answer within {waited}",
                where=url,
                hint="check your network, proxy or VPN, then re-run (the command is safe "
                "to repeat)",
            )
        return DogxrayError(
            f"the endpoint {url} accepted the connection but did not answer within {waited}",
            where=where,
            hint="is the emulator paused (Ctrl-Z: resume it with `fg`) or stopped? restart "
            "`dogxray local`, or unset AWS_ENDPOINT_URL / --endpoint-url to use AWS",
        )
    if isinstance(exc, bex.EndpointConnectionError | bex.ConnectTimeoutError):
        return DogxrayError(
            "cannot reach the AWS endpoint",
            where=str(exc),
            hint="check your network, the region, or AWS_ENDPOINT_URL / --endpoint-url",
        )
    if isinstance(exc, bex.ClientError):
        code, message = error_code(exc), error_message(exc)
        operation = getattr(exc, "operation_name", None)
        place = where or operation
        if code in ("ExpiredToken", "ExpiredTokenException", "RequestExpired"):
            return DogxrayError(
                "your AWS credentials have expired",
                where=place,
                hint="refresh them (`aws sso login`, or new keys) and re-run",
            )
        if code in (
            "InvalidClientTokenId",
            "UnrecognizedClientException",
            "SignatureDoesNotMatch",
            "InvalidAccessKeyId",
        ):
            return DogxrayError(
                "AWS rejected your credentials",
                where=place,
                hint="check the access key / profile (`aws sts get-caller-identity`)",
            )
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            return DogxrayError(
                f"access denied: {message}",
                where=place,
                hint="your identity needs permission for S3, IAM, Lambda, Logs and X-Ray",
            )
        if code in (
            "Throttling",
            "ThrottlingException",
            "ThrottledException",
            "TooManyRequestsException",
            "SlowDown",
            "RequestLimitExceeded",
        ):
            return DogxrayError(
                f"AWS kept throttling the request: {message}",
                where=place,
                hint="wait a minute and re-run; the command is safe to repeat",
            )
        return DogxrayError(
            f"{code}: {message}", where=place, hint="re-run with --debug for the API call log"
        )
    if isinstance(exc, bex.BotoCoreError):
        return DogxrayError(str(exc), where=where, hint="re-run with --debug for details")
    if endpoint_url and isinstance(exc, KeyError | TypeError | AttributeError | ValueError):
        return endpoint_not_aws(endpoint_url)  # botocore could not read a success answer
    return None
