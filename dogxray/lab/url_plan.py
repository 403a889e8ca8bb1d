"""The Function URL's part of the plan (pure): the URL itself (auth NONE, or none with
`--no-url`) and its two resource-policy statements; a public statement without the
URL's conditions is removed (it would let anyone invoke the function directly)."""

from __future__ import annotations

from typing import Any

from dogxray.lab.models import Action, Desired, Observed, Output, Permission, Resource, Step
from dogxray.lab.policies import public_unconditioned


def _permission_params(name: str, p: Permission) -> dict[str, Any]:
    params: dict[str, Any] = {
        "FunctionName": name,
        "StatementId": p.sid,
        "Action": p.action,
        "Principal": p.principal,
    }
    if p.url_auth_type:
        params["FunctionUrlAuthType"] = p.url_auth_type
    if p.via_url is not None:
        params["InvokedViaFunctionUrl"] = p.via_url
    return params


def _remove_permission(name: str, sid: str, why: str) -> Step:
    return Step(
        name="url-permissions",
        message=f"remove permission {sid} from {name} ({why})",
        action=Action.delete,
        resource=Resource("permission", sid, of=Resource("function-url", name)),
        operation="RemovePermission",
        params={"FunctionName": name, "StatementId": sid},
        tolerate=("ResourceNotFoundException",),
        changes=(f"permission {sid}: {why}",),
    )


def url_steps(d: Desired, o: Observed) -> list[Step]:
    u, f, of = d.url, d.function, o.function
    have = {p.sid: p for p in of.permissions}
    steps = [
        _remove_permission(f.name, p.sid, "lets anyone invoke the function directly")
        for p in public_unconditioned(of.permissions)
        if p.sid not in {w.sid for w in u.permissions}
    ]
    if not u.enabled:
        if of.url:
            steps.append(
                Step(
                    name="function-url",
                    message=f"delete the Function URL of {f.name}",
                    action=Action.delete,
                    resource=Resource("function-url", f.name),
                    operation="DeleteFunctionUrlConfig",
                    params={"FunctionName": f.name},
                    tolerate=("ResourceNotFoundException",),
                    changes=("Function URL exists but --no-url was asked",),
                )
            )
        steps += [
            _remove_permission(f.name, p.sid, "no URL") for p in u.permissions if p.sid in have
        ]
        return steps
    if not of.url:
        steps.append(
            Step(
                name="function-url",
                message=f"create the Function URL of {f.name} (auth {u.auth_type})",
                action=Action.create,
                resource=Resource("function-url", f.name),
                operation="CreateFunctionUrlConfig",
                params={"FunctionName": f.name, "AuthType": u.auth_type},
                changes=("no Function URL",),
                produces=Output.function_url,
            )
        )
    elif of.url_auth_type != u.auth_type:
        steps.append(
            Step(
                name="function-url",
                message=f"set the Function URL auth of {f.name} to {u.auth_type}",
                action=Action.update,
                resource=Resource("function-url", f.name),
                operation="UpdateFunctionUrlConfig",
                params={"FunctionName": f.name, "AuthType": u.auth_type},
                changes=(f"Function URL auth is {of.url_auth_type}, expected {u.auth_type}",),
                produces=Output.function_url,
            )
        )
    for p in u.permissions:
        if have.get(p.sid) == p:
            continue
        if p.sid in have:
            steps.append(_remove_permission(f.name, p.sid, "its conditions differ"))
        what = "missing" if p.sid not in have else "differs"
        steps.append(
            Step(
                name="url-permissions",
                message=f"allow {p.action} by anyone through the Function URL ({p.sid})",
                action=Action.create,
                resource=Resource("permission", p.sid, of=Resource("function-url", f.name)),
                operation="AddPermission",
                params=_permission_params(f.name, p),
                changes=(f"permission {p.sid} ({p.action}) {what}",),
            )
        )
    return steps
