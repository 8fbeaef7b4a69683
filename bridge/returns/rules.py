"""Which bin a returned item goes to, from what its tag said and what the ILS answered: the
first rule in a fixed order that applies (problems first: a problem never lands on a shelving
cart). While the ILS is away (not checked in yet) only the local rules apply - media type,
collection, everything else - since holds and transit are the ILS's to say."""

from __future__ import annotations

from dataclasses import dataclass

from station_core.returns_profile import BinRule

PROBLEM_CODES = ("unreadable", "foreign", "part_missing", "unsecured", "refused", "flagged",
                 "no_bin")


@dataclass(frozen=True)
class Returned:
    """One item at the slot, as far as the station knows it."""

    item_id: str = ""
    ours: bool = True  # the tag's owner library is this library
    readable: bool = True
    parts_missing: tuple[int, ...] = ()
    checked_in: bool | None = True  # None: the ILS is away, queued
    refusal: str = ""  # the ILS's words when it refused
    hold: bool = False  # trapped for another patron here
    transit_to: str = ""
    alert: bool = False  # the ILS flagged it for staff
    sort_bin: str = ""  # SIP2 CL
    media_type: str = ""
    collection: str = ""
    unsecured: bool = False  # checked in, but its security marker could not be set


@dataclass(frozen=True)
class Decision:
    bin: int
    name: str
    why: str  # for the staff log and the patron's screen ("problem: a part is missing")
    kind: str = "problem"  # the kind of rule that took it (statistics; the screen's wording)
    code: str = ""  # for a problem: unreadable, foreign, part_missing, refused, flagged, no_bin


def _problem(item: Returned) -> tuple[str, str]:
    if not item.readable:
        return "unreadable", "its tag cannot be read"
    if not item.ours:
        return "foreign", "it belongs to another library"
    if item.parts_missing:
        missing = ", ".join(str(p) for p in item.parts_missing)
        return "part_missing", f"part {missing} of the set is missing"
    if item.unsecured:
        return "unsecured", "its security marker could not be set"
    if item.checked_in is False:
        return "refused", f"the library system refused it: {item.refusal or 'no reason given'}"
    if item.alert and not (item.hold or item.transit_to):
        return "flagged", "the library system flagged it for staff"
    return "", ""


def choose_bin(rules: list[BinRule], item: Returned) -> Decision:
    by_kind: dict[str, list[BinRule]] = {}
    for rule in rules:
        by_kind.setdefault(rule.takes, []).append(rule)
    problem_bin = by_kind["problem"][0]
    code, why = _problem(item)
    if code:
        return Decision(problem_bin.bin, problem_bin.name, f"problem: {why}", code=code)
    online = item.checked_in is True
    candidates = [
        ("hold", online and item.hold, "a hold for another patron"),
        ("transit", online and bool(item.transit_to), f"in transit to {item.transit_to}"),
    ]
    for kind, applies, why in candidates:
        if applies and kind in by_kind:
            rule = by_kind[kind][0]
            return Decision(rule.bin, rule.name, why, kind)
    if online and (item.hold or item.transit_to):
        return Decision(problem_bin.bin, problem_bin.name,
                        "problem: a hold or transit and no bin for it", code="no_bin")
    valued = (("sort_bin", item.sort_bin if online else ""), ("media_type", item.media_type),
              ("collection", item.collection))
    for kind, value in valued:
        for rule in by_kind.get(kind, []):
            if value and rule.value.casefold() == value.casefold():
                return Decision(rule.bin, rule.name, f"{kind.replace('_', ' ')} {value}", kind)
    if "everything_else" in by_kind:
        rule = by_kind["everything_else"][0]
        return Decision(rule.bin, rule.name, "no other rule applies"
                        + ("" if online else " (the library system is away)"), "everything_else")
    return Decision(problem_bin.bin, problem_bin.name, "problem: no rule takes it", code="no_bin")
