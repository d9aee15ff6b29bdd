"""The one exception hierarchy of MaaS-KG. Every error a user's input, a request or the environment can cause is a
``MaasKgError``; its class says what kind it is, and with that how the command line and the HTTP service answer
it, in one place each (``maas_kg.cli`` prints one line; ``api.problems`` answers an RFC 9457 problem with ``status``
and ``title``). Imports nothing of maas_kg: every package raises these."""

from __future__ import annotations


class MaasKgError(Exception):
    """Base of every expected error; the message says what happened and what to do."""

    status = 500
    title = "Error"
    #: seconds after which a client may retry (sent as Retry-After), where waiting helps
    retry_after: int | None = None
    #: what an HTTP client is told instead of the message, where the message names what only the operator may see
    #: (internal addresses of stores and servers); the message itself goes to the log
    public_detail: str | None = None


class InvalidInput(MaasKgError, ValueError):
    """The input cannot be read at all (syntax, encoding, nesting, size)."""

    status, title = 400, "Malformed input"


class Unprocessable(MaasKgError, ValueError):
    """The input reads, but what it asks for cannot be done (unknown terms, broken rules, refused content)."""

    status, title = 422, "Cannot do that"


class InvalidDocument(Unprocessable):
    """A document (a product, a taxonomy extension) breaks the rules; ``report`` (a validation report, where there
    is one) lists every violation, for the CLI to print and the problem response to carry."""

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report


class Forbidden(MaasKgError, PermissionError):
    """The caller is known but may not do this (offer on another provider's request, say)."""

    status, title = 403, "Not allowed"


class NotFound(MaasKgError, LookupError):
    status, title = 404, "Not found"


class Conflict(MaasKgError):
    """The request conflicts with the current state (a service published twice at once, say)."""

    status, title = 409, "Conflict"


class Unavailable(MaasKgError, RuntimeError):
    """A component the request needs does not answer now (a remote store, the reasoner)."""

    status, title, retry_after = 503, "Unavailable", 5


class Misconfigured(MaasKgError, RuntimeError):
    """The operator's configuration is wrong (a setting, a missing file of the installation)."""

    status, title = 500, "Misconfigured"
