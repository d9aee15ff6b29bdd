"""The stage-3 pages: a buyer requests quotes from a match result, compares the offers, counters, accepts, follows
its orders and evaluates them; a provider answers the requests in its inbox and reports the status of its orders.

A thin layer over ``maas_kg.execution`` (negotiation, tracking, evaluation), as ``api/execution.py`` is over JSON:
form fields become the same documents, and a library error appears next to the field it names
(``FieldError.field``), or above the form, with the error's own status (422, 409, 403, 404); what a party may not
see is a 404 page, as in the API.

Signing in: the pages need the party's API key on every view, and a key must never travel in a URL. The sign-in
form (``/sign-in``, or the key field of the "request quotes" form) keeps the key in Flask's signed session cookie
(HttpOnly, SameSite=Lax, a browser-session cookie that this module also stops honouring after ``SESSION_HOURS``);
every request authenticates it again with ``KeyRing.authenticate``, so a revoked key stops working at once, in
every worker. The cookie's signing key is ``SECRET_KEY`` if the configuration sets one, else a random secret kept
in ``web-session.key`` beside the API keys file (created once, atomically, readable by the owner only), which every
gunicorn worker reads; deleting it signs everybody out. Forms that change something carry a per-session CSRF
token besides SameSite.
"""

from __future__ import annotations

import datetime
import hmac
import json
import os
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

from api.problems import error_page
from api.state import resources
from maas_kg.catalogue import CatalogueError, list_services
from maas_kg.catalogue.keys import ApiKey
from maas_kg.errors import Forbidden, MaasKgError, NotFound
from maas_kg.execution import evaluation, negotiation, tracking
from maas_kg.execution.fields import INCOTERMS, FieldError
from maas_kg.execution.ledger import Party
from maas_kg.store import StoreError

#: nested in the ``web`` blueprint (``api/web.py`` registers it): its pages are web pages, endpoints ``web.orders.*``
bp = Blueprint("orders", __name__)

#: a sign-in lasts at most this long (the browser forgets the cookie when it closes, and revoking the key ends it)
SESSION_HOURS = 12
SECRET_FILE = "web-session.key"
OFFER_FIELDS = ("price", "currency", "lead_time_days", "valid_until", "incoterm", "conditions")
QUOTE_FIELDS = ("api_key", "title", "quantity", "due", "place", "lat", "lon")


# -- the session's signing key ------------------------------------------------------------------------------------

@bp.record_once
def _configure(state) -> None:
    app = state.app
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _shared_secret(app.config["KEYS_FILE"])
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True


def _shared_secret(keys_file: str) -> str:
    """The secret beside the keys file that every worker shares (made by the first one: written to a draft, then
    linked into place, so nobody reads half a secret); a random one per process for an in-memory key ring."""
    if keys_file == ":memory:":
        return secrets.token_hex(32)
    path = Path(keys_file).with_name(SECRET_FILE)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another worker was first: use its secret
        finally:
            draft.unlink()
    return path.read_text(encoding="utf-8").strip()


# -- who is signed in ----------------------------------------------------------------------------------------------

class SignInNeeded(Exception):
    """The page needs a key: the sign-in form answers (401)."""


class WrongRole(Exception):
    """Signed in, but as another kind of party than the page is for (403)."""

    def __init__(self, roles: tuple[str, ...], party: Party):
        super().__init__(roles)
        self.roles, self.party = roles, party


class FormExpired(Exception):
    """A form without this session's CSRF token, or sent from another site (400)."""

    def __init__(self, message: str = "the form is from an earlier sign-in: reload the page and send it again"):
        super().__init__(message)
        self.message = message


def signed_in() -> ApiKey | None:
    """The live key of this browser's sign-in, authenticated again on every request (None if there is none, or if
    it was revoked or is too old: then the sign-in is forgotten)."""
    if "web_key" not in g:
        g.web_key = None
        token = session.get("token")
        if token:
            fresh = time.time() - float(session.get("since", 0)) < SESSION_HOURS * 3600
            key = resources().keys.authenticate(token) if fresh else None
            if key is None:
                session.clear()
                g.web_signed_out = True
            g.web_key = key
    return g.web_key


def _sign_in(token: str) -> None:
    session.clear()  # a new sign-in is a new session (and a new CSRF token)
    session.update(token=token, since=time.time(), csrf=secrets.token_urlsafe(24))


def _party(*roles: str) -> Party:
    key = signed_in()
    if key is None:
        raise SignInNeeded()
    party = Party.of_key(key)
    if roles and party.role not in roles:
        raise WrongRole(roles, party)
    return party


def _check_form() -> None:
    expected, given = session.get("csrf"), request.form.get("csrf", "")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        raise FormExpired()


def _home(key: ApiKey) -> str:
    return url_for(".purchases") if key.buyer else url_for(".inbox")


def _local(target: str | None) -> str | None:
    """``target`` if it is a path of this site (no scheme, no host), else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@bp.app_context_processor
def _account():
    def csrf_token() -> str:
        return session.get("csrf", "") if signed_in() else ""

    return {"web_account": signed_in, "csrf_token": csrf_token, "incoterms": [(i, i) for i in INCOTERMS],
            "event_kinds": [(kind, kind.replace("_", " ")) for kind in tracking.KINDS],
            "open_states": negotiation.OPEN_STATES, "step_requirements": step_requirements}


@bp.errorhandler(SignInNeeded)
def _needs_sign_in(_err):
    expired = g.get("web_signed_out", False)
    target = request.path if request.method == "GET" else _local(request.referrer and urlsplit(request.referrer).path)
    return render_template("sign_in.html", form={}, fields={}, next=target, expired=expired), 401


@bp.errorhandler(WrongRole)
def _wrong_role(err: WrongRole):
    return render_template("orders_error.html", status=403, role=err.party.role, roles=err.roles,
                           message=None), 403


@bp.errorhandler(FormExpired)
def _form_expired(err: FormExpired):
    return render_template("orders_error.html", status=400, message=err.message), 400


@bp.before_request
def _same_site_forms() -> None:
    """Every form of these pages is sent from this site (the sign-in form too, which has no CSRF token yet): a
    browser says where a POST comes from in ``Origin`` (host names compared: a proxy may drop the port)."""
    origin = request.headers.get("Origin")
    if request.method == "POST" and origin is not None and \
            urlsplit(origin).hostname != urlsplit(f"//{request.host}").hostname:
        raise FormExpired("the form was sent from another site: open this site's page and send it from there")


@bp.errorhandler(MaasKgError)
def _library_error(err: MaasKgError):
    if err.status >= 500:  # not about the order: the site's error page, which keeps what was typed
        return error_page(err.status, err.title, err.public_detail or str(err), retry_after=err.retry_after)
    return render_template("orders_error.html", status=err.status, message=err.public_detail or str(err)), err.status


# -- sign in and out -----------------------------------------------------------------------------------------------

@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    target = _local(request.values.get("next"))
    if request.method == "GET":
        return render_template("sign_in.html", form={}, fields={}, next=target, expired=False)
    token = request.form.get("api_key", "").strip()
    key = resources().keys.authenticate(token) if token else None
    if key is None:
        message = ("the key is unknown or revoked: ask the operator for a new one" if token else
                   "enter your organisation's API key (ask the operator for one)")
        return render_template("sign_in.html", form={}, fields={"api_key": message}, next=target,
                               expired=False), 401
    _sign_in(token)
    return redirect(target or _home(key), 303)


@bp.post("/sign-out")
def sign_out():
    if signed_in() is not None:
        _check_form()
    session.clear()
    return redirect(url_for(".sign_in"), 303)


# -- form fields into the library's documents --------------------------------------------------------------------

def _given(name: str) -> str:
    return request.form.get(name, "").strip()


def _whole(text: str):
    """A whole number from a form field, or the text as typed (the library says what it takes)."""
    try:
        return int(text)
    except ValueError:
        return text


def _decimal(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def _document(names, *, whole=()) -> dict:
    """The given fields of ``names`` (empty ones are left out, so a required one is reported missing)."""
    return {name: (_whole(_given(name)) if name in whole else _given(name)) for name in names if _given(name)}


def _terms() -> dict:
    return _document(OFFER_FIELDS, whole=("lead_time_days",))


def _event() -> dict:
    return _document(("kind", "date", "new_date", "note"))


def _evaluation() -> dict:
    doc = _document(("defects", "communication", "documents", "comment"),
                    whole=("defects", "communication", "documents"))
    if _given("conforming") in ("yes", "no"):
        doc["conforming"] = _given("conforming") == "yes"
    return doc


def step_requirements(step: dict, form) -> dict:
    """What a step of a match result (the output contract) says it requires, for the request to its providers: the
    step's process and its reasons, and the product's characteristics every step's must-criteria check, as given
    in the match form. Nothing of the route's other steps, nor the delivery place, due date and weights."""
    process = step["process"]
    requirements = {"process": process["label"], "process_iri": process["iri"]}
    if process.get("notation"):
        requirements["notation"] = process["notation"]
    if step.get("reasons"):
        requirements["reasons"] = list(step["reasons"])
    for name in ("material", "shape", "envelope_mm", "mass_kg", "certifications"):
        value = (form.get(name) or "").strip() if form else ""
        if value:
            requirements[name] = value
    return requirements


def _pick(value: str) -> dict:
    """A ticked candidate: "<position> <service> [<match score>]"."""
    parts = value.split()
    return {"position": parts[0] if parts else "", "service": parts[1] if len(parts) > 1 else "",
            "match_score": parts[2] if len(parts) > 2 else None, "value": value}


def quotes_from_form(form) -> dict:
    """The inquiry of the "request quotes" form: one item per ticked candidate (``pick``), with that step's label
    and requirements from the hidden fields the match page wrote for it, and the candidate's match score (which
    the buyer keeps beside the offers; the provider never sees it)."""
    items = []
    for pick in map(_pick, form.getlist("pick")):
        position = pick["position"]
        text = form.get(f"requirements_{position}", "")
        try:
            requirements = json.loads(text) if text else {}
        except ValueError:
            requirements = text  # the library says it must be a JSON object
        item = {"service": pick["service"], "step": form.get(f"step_{position}", ""), "position": _whole(position),
                "requirements": requirements}
        if pick["match_score"] is not None:
            item["match_score"] = _decimal(pick["match_score"])
        items.append(item)
    doc: dict = {"items": items}
    for name in ("title", "due"):
        if form.get(name, "").strip():
            doc[name] = form[name].strip()
    if form.get("quantity", "").strip():
        doc["quantity"] = _whole(form["quantity"].strip())
    delivery: dict = {}
    if form.get("place", "").strip():
        delivery["place"] = form["place"].strip()
    for axis in ("lat", "lon"):
        if form.get(axis, "").strip():
            delivery[axis] = _decimal(form[axis].strip())
    doc["delivery"] = delivery
    return doc


def _field_of(err: MaasKgError, shown: tuple[str, ...]) -> tuple[dict[str, str], str | None]:
    """A library error as (errors next to fields, error above the form): a FieldError goes next to the form field
    it names when the form has one."""
    if isinstance(err, FieldError):
        name = err.field.split(".")[-1] if err.field.startswith("delivery") else err.field
        if name == "delivery":
            name = "place"
        if name.startswith("items[") and name.endswith("].due"):
            name = "due"
        if name in shown:
            return {name: str(err).split(": ", 1)[-1]}, None
    return {}, str(err)


def _names(services: list[str]) -> dict[str, dict]:
    """Service and provider names from the public catalogue (withdrawn services keep their IRI)."""
    names = {}
    for service in dict.fromkeys(services):
        try:
            rows = list_services(resources().catalogue, service=service)
        except (CatalogueError, StoreError):
            rows = []
        if rows:
            names[service] = {"name": rows[0]["name"], "provider": rows[0]["providerName"]}
    return names


# -- request quotes (from the match page) -------------------------------------------------------------------------

@bp.post("/quotes")
def request_quotes():
    """The match page's "request quotes" form: one request for quotation per ticked candidate."""
    token = _given("api_key")
    key = resources().keys.authenticate(token) if token else signed_in()
    if key is None:
        message = ("the key is unknown or revoked: ask the operator for a new one" if token else
                   "enter your buyer organisation's API key, or sign in first")
        return _quotes_page({"api_key": message}, None, 401)
    if not token:
        _check_form()
    state = resources()
    try:
        made = negotiation.request_quotes(state.ledger, state.catalogue, Party.of_key(key),
                                          quotes_from_form(request.form))
    except MaasKgError as err:
        if err.status >= 500:
            raise  # not the form's fault: the error page says so and keeps what was typed (api/problems.py)
        if token and not isinstance(err, Forbidden):
            _sign_in(token)  # the buyer's key is good: the corrected form needs it no more
        fields, message = _field_of(err, QUOTE_FIELDS)
        return _quotes_page(fields, message, err.status)
    if token:
        _sign_in(token)
    flash(f"{len(made['rfqs'])} request(s) for quotation sent")
    return redirect(url_for(".comparison_page", inquiry=made["inquiry"]), 303)


def _quotes_page(fields: dict, error: str | None, status: int):
    """The form again, with what was ticked and typed (the key excepted) and the errors."""
    form = request.form
    picks = [{**pick, "step": form.get(f"step_{pick['position']}", "")} for pick in map(_pick, form.getlist("pick"))]
    steps = {p["position"]: {"step": form.get(f"step_{p['position']}", ""),
                             "requirements": form.get(f"requirements_{p['position']}", "")} for p in picks}
    return render_template("quotes.html", form=form, fields=fields, error=error, picks=picks, steps=steps,
                           names=_names([p["service"] for p in picks])), status


# -- provider: inbox ----------------------------------------------------------------------------------------------

def _orders_with_status(party: Party) -> list[dict]:
    ledger = resources().ledger
    return [tracking.timeline(ledger, party, row["id"]) for row in tracking.orders(ledger, party, limit=50)]


@bp.get("/inbox")
def inbox():
    """A provider's requests for quotation, newest first, and its orders with where each stands."""
    party = _party("provider", "admin")
    ledger = resources().ledger
    requests = negotiation.listing(ledger, party, state=request.args.get("state") or None, limit=100)
    orders = _orders_with_status(party)
    return render_template("inbox.html", requests=requests, orders=orders, party=party,
                           names=_names([r["service"] for r in requests] + [o["service"] for o in orders]))


# -- one request for quotation (both parties) ---------------------------------------------------------------------

def _request_page(party: Party, rfq_id: str, *, failed: str | None = None, fields: dict | None = None,
                  error: str | None = None, status: int = 200):
    rfq = negotiation.view(resources().ledger, party, rfq_id)
    last = rfq["offers"][-1] if rfq["offers"] else None
    # the provider's offer form starts from the latest terms on the table (the buyer's counter-offer, say)
    offered = {name: ("" if last is None or last.get(name) is None else str(last[name])) for name in OFFER_FIELDS}
    form = {**offered, **request.form.to_dict()} if failed else offered
    return render_template("rfq.html", rfq=rfq, party=party, failed=failed, fields=fields or {}, error=error,
                           form=form, names=_names([rfq["service"]]), today=datetime.date.today().isoformat()), status


@bp.get("/requests/<rfq_id>")
def request_page(rfq_id: str):
    return _request_page(_party(), rfq_id)


#: what each button of the request and comparison pages does: the library call, and the fields its form has
ACTIONS = {
    "offer": (lambda ledger, party, rfq: negotiation.offer(ledger, party, rfq, _terms()), OFFER_FIELDS),
    "counter": (lambda ledger, party, rfq: negotiation.counter(ledger, party, rfq, _terms()), OFFER_FIELDS),
    "decline": (lambda ledger, party, rfq: negotiation.decline(ledger, party, rfq, _document(("reason",))),
                ("reason",)),
    "withdraw-offer": (lambda ledger, party, rfq: negotiation.withdraw_offer(ledger, party, rfq), ()),
    "withdraw": (lambda ledger, party, rfq: negotiation.withdraw_request(ledger, party, rfq), ()),
    "accept": (lambda ledger, party, rfq: negotiation.accept(ledger, party, rfq,
                                                             _document(("version",), whole=("version",))), ()),
}
DONE = {"offer": "Offer sent", "counter": "Counter-offer sent", "decline": "Request declined",
        "withdraw-offer": "Offer withdrawn", "withdraw": "Request withdrawn", "accept": "Offer accepted"}


@bp.post("/requests/<rfq_id>/<action>")
def act_on_request(rfq_id: str, action: str):
    if action not in ACTIONS:
        raise NotFound(f"no action {action!r} on a request for quotation")
    party = _party()
    _check_form()
    call, shown = ACTIONS[action]
    back = request.form.get("back")
    try:
        result = call(resources().ledger, party, rfq_id)
    except MaasKgError as err:
        if isinstance(err, NotFound) or err.status >= 500:
            raise
        fields, message = _field_of(err, shown)
        if back == "inquiry" and request.form.get("inquiry"):
            return _comparison_page(party, request.form["inquiry"], failed=(rfq_id, action), fields=fields,
                                    error=message, status=err.status)
        return _request_page(party, rfq_id, failed=action, fields=fields, error=message, status=err.status)
    if action == "accept":
        flash(f"Offer accepted: order {result['order']}")
        return redirect(url_for(".order_page", order_id=result["order"]), 303)
    flash(DONE[action])
    if back == "inquiry" and request.form.get("inquiry"):
        return redirect(url_for(".comparison_page", inquiry=request.form["inquiry"]), 303)
    return redirect(url_for(".request_page", rfq_id=rfq_id), 303)


# -- buyer: purchases and the comparison of offers ----------------------------------------------------------------

@bp.get("/purchases")
def purchases():
    """A buyer's inquiries (its requests grouped as sent together) and its orders with where each stands."""
    party = _party("buyer", "admin")
    inquiries: dict[str, dict] = {}
    for rfq in negotiation.listing(resources().ledger, party, limit=500):
        entry = inquiries.setdefault(rfq["inquiry"], {"inquiry": rfq["inquiry"], "title": rfq["title"],
                                                      "created": rfq["created"], "due": rfq["due"], "steps": {},
                                                      "states": {}})
        entry["steps"][rfq["step"]] = rfq["position"]
        entry["states"][rfq["state"]] = entry["states"].get(rfq["state"], 0) + 1
    orders = _orders_with_status(party)
    return render_template("purchases.html", inquiries=list(inquiries.values()), orders=orders, party=party,
                           names=_names([o["service"] for o in orders]))


def _comparison_page(party: Party, inquiry: str, *, failed: tuple[str, str] | None = None,
                     fields: dict | None = None, error: str | None = None, status: int = 200):
    ledger = resources().ledger
    compared = negotiation.comparison(ledger, party, inquiry)
    requests = {r["id"]: r for r in negotiation.listing(ledger, party, inquiry=inquiry, limit=negotiation.MAX_ITEMS)}
    services = [o["service"] for s in compared["steps"] for o in s["options"]]
    return render_template("compare.html", compared=compared, requests=requests, party=party, failed=failed,
                           fields=fields or {}, error=error, form=request.form if failed else {},
                           names=_names(services), today=datetime.date.today().isoformat()), status


@bp.get("/purchases/<inquiry>")
def comparison_page(inquiry: str):
    return _comparison_page(_party("buyer", "admin"), inquiry)


# -- an order: its timeline, status events, evaluation ------------------------------------------------------------

def _order_page(party: Party, order_id: str, *, failed: str | None = None, fields: dict | None = None,
                error: str | None = None, status: int = 200):
    ledger = resources().ledger
    order = tracking.timeline(ledger, party, order_id)
    try:
        rated = evaluation.evaluation(ledger, party, order_id)
    except NotFound:
        rated = None
    return render_template("order.html", order=order, rated=rated, party=party, failed=failed, fields=fields or {},
                           error=error, form=request.form if failed else {}, names=_names([order["service"]]),
                           today=datetime.date.today().isoformat()), status


@bp.get("/order-timeline/<order_id>")
def order_page(order_id: str):
    return _order_page(_party(), order_id)


@bp.post("/order-timeline/<order_id>/<action>")
def act_on_order(order_id: str, action: str):
    if action not in ("event", "evaluation"):
        raise NotFound(f"no action {action!r} on an order")
    party = _party()
    _check_form()
    state = resources()
    try:
        if action == "event":
            tracking.post_event(state.ledger, party, order_id, _event())
        else:
            evaluation.evaluate(state.ledger, state.catalogue, party, order_id, _evaluation())
    except MaasKgError as err:
        if isinstance(err, NotFound) or err.status >= 500:
            raise
        shown = ("kind", "date", "new_date", "note") if action == "event" else \
            ("conforming", "defects", "communication", "documents", "comment")
        fields, message = _field_of(err, shown)
        return _order_page(party, order_id, failed=action, fields=fields, error=message, status=err.status)
    flash("Status reported" if action == "event" else "Thank you: evaluation saved")
    return redirect(url_for(".order_page", order_id=order_id), 303)
