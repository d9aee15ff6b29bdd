"""Activity 3.2, planning: the schedule of an inquiry's chain of steps, backwards from the due date.

Per step (in route order) the agreed order, or before acceptance the offer the buyer chose (else the cheapest
open one): its lead time gives the step's duration, and a transport leg joins each provider's site to the next one's
and the last to the delivery place. Backwards from the due date each step gets its latest start and finish;
forwards from today its earliest; the difference is the slack. A chain whose slack is negative cannot meet the due
date, and the plan says so before anything is accepted. Exported as iCalendar (RFC 5545) with the ``icalendar``
library: one all-day event per step and leg, at the latest dates, so a planner sees the deadlines.
"""

from __future__ import annotations

import datetime
import math

import icalendar

from maas_kg import geo, knowledge
from maas_kg.catalogue.publishing import service_graph
from maas_kg.errors import NotFound
from maas_kg.execution.ledger import Ledger, Party
from maas_kg.execution.negotiation import listing, view
from maas_kg.knowledge import rules



def plan(ledger: Ledger, catalogue, party: Party, inquiry: str, *, chosen: list[str] = (),
         today: datetime.date | None = None) -> dict:
    """The schedule of ``inquiry`` as ``party`` (its buyer, its providers or an administrator) may see it; ``chosen``
    names requests whose current offer to plan with where a step has no order yet."""
    today = today or datetime.date.today()
    requests = listing(ledger, party, inquiry=inquiry, limit=100)
    if not requests:
        raise NotFound(f"no inquiry {inquiry}")
    steps: dict[tuple[int, str], dict] = {}
    for rfq in requests:
        full = view(ledger, party, rfq["id"], today=today)
        accepted = next((o for o in full["offers"] if o["status"] == "accepted"), None)
        current = next((o for o in reversed(full["offers"]) if o["author"] == "provider" and o["status"] == "open"
                        and not o["expired"]), None)
        option = accepted or current
        if option is None:
            continue
        rank = (0 if accepted else 1 if rfq["id"] in chosen else 2, float(option["price"]))
        key = (rfq["position"], rfq["step"])
        if key not in steps or rank < steps[key]["rank"]:
            steps[key] = {"rank": rank, "rfq": full, "offer": option, "order": full["order"]}
    ordered = [steps[key] for key in sorted(steps)]
    if not ordered:
        return {"inquiry": inquiry, "feasible": None, "steps": [], "legs": [],
                "warnings": ["no offer to plan with yet"]}
    due = max(datetime.date.fromisoformat(s["rfq"]["due"]) for s in ordered)
    delivery = ordered[-1]["rfq"]["delivery"]
    sites = _sites(catalogue, [s["rfq"]["service"] for s in ordered])
    places = [sites.get(s["rfq"]["service"]) for s in ordered] + \
        [(delivery["lat"], delivery["lon"]) if "lat" in delivery else None]
    legs = [_leg(places[i], places[i + 1]) for i in range(len(ordered))]
    # backwards from the due date: the latest finish and start of each step
    latest_finish: list[datetime.date] = [due] * len(ordered)
    latest_start: list[datetime.date] = [due] * len(ordered)
    deadline = due
    for i in reversed(range(len(ordered))):
        latest_finish[i] = deadline - datetime.timedelta(days=legs[i]["days"])
        latest_start[i] = latest_finish[i] - datetime.timedelta(days=ordered[i]["offer"]["lead_time_days"])
        deadline = latest_start[i]
    # forwards from today: the earliest
    start, shown, shown_legs = today, [], []
    for i, step in enumerate(ordered):
        finish = start + datetime.timedelta(days=step["offer"]["lead_time_days"])
        shown.append({"position": step["rfq"]["position"], "step": step["rfq"]["step"],
                      "service": step["rfq"]["service"], "provider": step["rfq"]["provider"],
                      "rfq": step["rfq"]["id"], "order": step["order"], "offer_version": step["offer"]["version"],
                      "lead_time_days": step["offer"]["lead_time_days"],
                      "earliest_start": start.isoformat(), "earliest_finish": finish.isoformat(),
                      "latest_start": latest_start[i].isoformat(), "latest_finish": latest_finish[i].isoformat(),
                      "slack_days": (latest_finish[i] - finish).days})
        arrive = finish + datetime.timedelta(days=legs[i]["days"])
        shown_legs.append({**legs[i], "after_step": step["rfq"]["step"],
                           "to": "delivery" if i == len(ordered) - 1 else ordered[i + 1]["rfq"]["step"],
                           "earliest_arrival": arrive.isoformat(),
                           "latest_arrival": (latest_start[i + 1] if i + 1 < len(ordered) else due).isoformat()})
        start = arrive
    slack = min(s["slack_days"] for s in shown)
    warnings = [] if slack >= 0 else [f"the chain finishes {-slack} days after the due date {due}: ask for shorter "
                                      "lead times, choose other offers, or agree a later date"]
    return {"inquiry": inquiry, "due": due.isoformat(), "today": today.isoformat(), "feasible": slack >= 0,
            "slack_days": slack, "steps": shown, "legs": shown_legs, "warnings": warnings}


def _sites(catalogue, services: list[str]) -> dict[str, tuple[float, float]]:
    block = rules.values(["service", "graph"], [[s, service_graph(s)] for s in sorted(set(services))])
    return {row["service"].value: (float(row["lat"].value), float(row["lon"].value))
            for row in rules.select(catalogue, "execution/service-sites.rq", SERVICES=block)}


def _leg(origin, destination) -> dict:
    if origin is None or destination is None:
        return {"km": None, "days": 1}  # a site not located: one day, so the plan is not too optimistic
    km = geo.distance_km(*origin, *destination)
    # road freight's distance per day is declared in the ontology (maas:RoadFreightKmPerDay); a leg between steps
    # at one site takes no day
    per_day = knowledge.parameter("road_freight_km_per_day")
    return {"km": round(km, 1), "days": math.ceil(km / per_day) if km >= 1 else 0}


def as_icalendar(schedule: dict) -> bytes:
    """The plan as an iCalendar file: an all-day event per step (latest start to latest finish) and per leg."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//MaaS-KG//order chain plan//EN")
    calendar.add("version", "2.0")
    stamp = datetime.datetime.now(datetime.timezone.utc)
    for step in schedule["steps"]:
        event = icalendar.Event()
        event.add("uid", f"{step['rfq']}-step@maas-kg")
        event.add("dtstamp", stamp)
        event.add("summary", f"{step['step']} ({step['lead_time_days']} d, slack {step['slack_days']} d)")
        event.add("description", f"service {step['service']}\nprovider {step['provider']}")
        event.add("dtstart", datetime.date.fromisoformat(step["latest_start"]))
        event.add("dtend", datetime.date.fromisoformat(step["latest_finish"]) + datetime.timedelta(days=1))
        calendar.add_component(event)
    for leg in schedule["legs"]:
        if not leg["days"]:
            continue
        event = icalendar.Event()
        event.add("uid", f"{schedule['inquiry']}-{leg['after_step']}-leg@maas-kg")
        event.add("dtstamp", stamp)
        event.add("summary", f"transport {leg['after_step']} -> {leg['to']} ({leg['km']} km)")
        arrival = datetime.date.fromisoformat(leg["latest_arrival"])
        event.add("dtstart", arrival - datetime.timedelta(days=leg["days"]))
        event.add("dtend", arrival)
        calendar.add_component(event)
    return calendar.to_ical()
