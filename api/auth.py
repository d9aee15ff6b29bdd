"""API keys on requests: ``Authorization: Bearer <key>``. Reads of the public catalogue need none."""

from __future__ import annotations

import functools

from flask import g, request

from api.problems import Problem
from api.state import resources
from maas_kg import catalogue
from maas_kg.catalogue.keys import ApiKey


def current_key() -> ApiKey | None:
    """The request's live key, None without one; 401 for a key that is unknown or revoked."""
    if "api_key" not in g:
        header = request.headers.get("Authorization", "")
        if not header:
            g.api_key = None
        else:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Problem(401, "Bad credentials", "send the key as 'Authorization: Bearer <key>'")
            key = resources().keys.authenticate(token.strip())
            if key is None:
                raise Problem(401, "Unknown key", "the key is unknown or revoked: ask the operator for a new one")
            g.api_key = key
    return g.api_key


def ownership_check(key: ApiKey, owners: dict[str, str | None]):
    """``may_publish`` for ``catalogue.publish``: ``key`` may write a service when it may change the provider the
    input names, the service's IRI is in a namespace the key may use (``ApiKey.may_name``), and the IRI's owner on
    record (published or withdrawn) is the key's provider. ``owners`` collects the providers published now."""
    def may_publish(service: str, provider: str | None) -> bool | str:
        store = resources().catalogue
        owners.update(catalogue.providers_of(store, [service]))
        if not key.may_change(provider):
            return "you may only publish services of your own organisation"
        owner = catalogue.owners_of(store, [service]).get(service) or owners.get(service)
        if owner is not None and not key.may_change(owner):
            return f"{service} belongs to {owner} (its catalogue record, kept after a withdrawal, says so)"
        if not key.may_name(service):
            spaces = ", ".join([f"{key.provider}/", *key.namespaces])
            return (f"{service} is outside your namespaces ({spaces}): give the service an IRI under one of them, "
                    "or ask an administrator to grant you its namespace")
        return True
    return may_publish


def key_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_key() is None:
            raise Problem(401, "Key required", "this operation needs an API key: 'Authorization: Bearer <key>'")
        return view(*args, **kwargs)
    return wrapped


def admin_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        key = current_key()
        if key is None:
            raise Problem(401, "Key required", "this operation needs an administrator's key")
        if not key.admin:
            raise Problem(403, "Administrators only", "this operation needs an administrator's key")
        return view(*args, **kwargs)
    return wrapped
