"""Every item the return line takes, from the moment its check-in starts until it lies in a bin,
and what is in each bin until staff say it was emptied (then the list goes with the cart and the
bin's count starts again). Its states let a restarted station pick up where it was: an item whose
row exists is never checked in again, and items that were on the belt are drained, not re-sorted.
Items only, never a patron."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select, update

from bridge.db.models import ReturnedItem
from bridge.local_time import utcnow
from station_core.returns_profile import BinRule

IN_SLOT = ("checking_in", "taken")
IN_BIN = ("sorted", "unknown")


class ReturnLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- the line --------------------------------------------------------------------------------
    def begin(self, item_id: str) -> int:
        """Written before the check-in: a restart finds it and does not check the item in again."""
        with Session(self.engine) as session:
            row = ReturnedItem(item_id=item_id[:64], bin=-1, at=utcnow(), state="checking_in")
            session.add(row)
            session.commit()
            assert row.id is not None
            return row.id

    def decided(self, ref: int, *, title: str, bin_k: int, why: str, kind: str) -> None:
        self._update(ref, title=title[:255], bin=bin_k, why=why[:255], kind=kind[:16],
                     state="taken")

    def on_belt(self, ref: int) -> None:
        self._update(ref, state="on_belt")

    def sorted(self, ref: int) -> None:
        self._update(ref, state="sorted", at=utcnow())

    def rejected(self, ref: int) -> None:
        self._update(ref, state="rejected", at=utcnow())

    def sorted_into(self, bin_k: int, item_id: str, title: str, why: str, kind: str = "") -> None:
        """An item carried into a bin in one go (no slot, no belt to follow)."""
        with Session(self.engine) as session:
            session.add(ReturnedItem(item_id=item_id[:64], title=title[:255], bin=bin_k,
                                     why=why[:255], kind=kind[:16], at=utcnow()))
            session.commit()

    def waiting_in_slot(self, item_id: str) -> ReturnedItem | None:
        """The item's row when the station took it but it never left the slot (a restart)."""
        with Session(self.engine) as session:
            return session.exec(select(ReturnedItem).where(
                ReturnedItem.item_id == item_id[:64], col(ReturnedItem.state).in_(IN_SLOT))
                .order_by(col(ReturnedItem.id).desc())).first()

    def on_belt_at_restart(self, problem_bin: int, in_slot: set[str]) -> list[ReturnedItem]:
        """Items that were on the belt when the station stopped: where each is, nobody knows, so
        they are drained into the problem bin (or off the end) and staff see which they were.
        One still in the slot (`in_slot`: the item ids its reader sees) never left it: it waits
        there as taken, to go on with the bin it had."""
        with Session(self.engine) as session:
            # Taken, but no longer in the slot: the patron took it back while the station was
            # down. Its check-in stands; the next return of it is a new one.
            session.execute(update(ReturnedItem).where(  # type: ignore[call-overload]
                col(ReturnedItem.state).in_(IN_SLOT), col(ReturnedItem.item_id).not_in(in_slot))
                .values(state="withdrawn"))
            rows = list(session.exec(select(ReturnedItem).where(
                ReturnedItem.state == "on_belt").order_by(col(ReturnedItem.id))))
            for row in [r for r in rows if r.item_id in in_slot]:
                row.state = "taken"
                session.add(row)
                rows.remove(row)
            for row in rows:
                row.why = f"on the belt at a restart: bin {problem_bin} or the end of the belt " \
                    f"(meant for bin {row.bin})"[:255]
                row.bin, row.state = problem_bin, "unknown"
                session.add(row)
            session.commit()
            for row in rows:
                session.refresh(row)
                session.expunge(row)
            return rows

    def _update(self, ref: int, **values: Any) -> None:
        with Session(self.engine) as session:
            session.execute(update(ReturnedItem).where(  # type: ignore[call-overload]
                ReturnedItem.id == ref).values(**values))
            session.commit()

    # -- staff -----------------------------------------------------------------------------------
    def _in_bin(self, session: Session, bin_k: int) -> list[ReturnedItem]:
        return list(session.exec(select(ReturnedItem).where(
            ReturnedItem.bin == bin_k, col(ReturnedItem.emptied_at).is_(None),
            col(ReturnedItem.state).in_(IN_BIN)).order_by(col(ReturnedItem.id))))

    def bins(self, rules: list[BinRule]) -> list[dict[str, Any]]:
        """Each bin the profile names: its name, what it takes, and what is in it now."""
        with Session(self.engine) as session:
            return [{"bin": rule.bin, "name": rule.name, "takes": rule.takes, "value": rule.value,
                     "items": [{"item_id": r.item_id, "title": r.title, "why": r.why}
                               for r in self._in_bin(session, rule.bin)]}
                    for rule in sorted(rules, key=lambda r: r.bin)]

    def emptied(self, bin_k: int) -> list[dict[str, str]]:
        """Staff took the bin's contents away: the list for the cart, and the bin starts empty."""
        with Session(self.engine) as session:
            taken = [{"item_id": r.item_id, "title": r.title}
                     for r in self._in_bin(session, bin_k)]
            session.execute(update(ReturnedItem).where(  # type: ignore[call-overload]
                ReturnedItem.bin == bin_k, col(ReturnedItem.emptied_at).is_(None),
                col(ReturnedItem.state).in_(IN_BIN)).values(emptied_at=utcnow()))
            session.commit()
        return taken

    def purge(self, before: datetime) -> int:
        """Rows nobody needs any more (the statistics are counters): items of bins emptied before
        `before`, and items handed back or taken back out of the slot before then."""
        with Session(self.engine) as session:
            done = session.execute(delete(ReturnedItem).where(  # type: ignore[call-overload]
                (col(ReturnedItem.emptied_at) < before)
                | (col(ReturnedItem.state).in_(("rejected", "withdrawn"))
                   & (col(ReturnedItem.at) < before))))
            session.commit()
            return int(done.rowcount or 0)

    def since(self, start: datetime) -> list[ReturnedItem]:
        """Every item taken since `start` (statistics)."""
        with Session(self.engine) as session:
            rows = list(session.exec(select(ReturnedItem).where(ReturnedItem.at >= start)))
            for row in rows:
                session.expunge(row)
            return rows
