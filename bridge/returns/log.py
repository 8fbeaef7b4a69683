"""What is in each bin: every item the line sorted, until staff say the bin was emptied (then
the list goes with the cart and the bin's count starts again)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select, update

from bridge.db.models import ReturnedItem
from bridge.local_time import utcnow
from station_core.returns_profile import BinRule


class ReturnLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def sorted_into(self, bin_k: int, item_id: str, title: str, why: str) -> None:
        with Session(self.engine) as session:
            session.add(ReturnedItem(item_id=item_id[:64], title=title[:255], bin=bin_k,
                                     why=why[:255], at=utcnow()))
            session.commit()

    def _in_bin(self, session: Session, bin_k: int) -> list[ReturnedItem]:
        return list(session.exec(select(ReturnedItem).where(
            ReturnedItem.bin == bin_k, col(ReturnedItem.emptied_at).is_(None))
            .order_by(col(ReturnedItem.id))))

    def bins(self, rules: list[BinRule]) -> list[dict[str, Any]]:
        """Each bin the profile names: its name, what it takes, and what is in it now."""
        with Session(self.engine) as session:
            return [{"bin": rule.bin, "name": rule.name, "takes": rule.takes,
                     "items": [{"item_id": r.item_id, "title": r.title, "why": r.why}
                               for r in self._in_bin(session, rule.bin)]}
                    for rule in sorted(rules, key=lambda r: r.bin)]

    def emptied(self, bin_k: int) -> list[dict[str, str]]:
        """Staff took the bin's contents away: the list for the cart, and the bin starts empty."""
        with Session(self.engine) as session:
            taken = [{"item_id": r.item_id, "title": r.title}
                     for r in self._in_bin(session, bin_k)]
            session.execute(update(ReturnedItem).where(  # type: ignore[call-overload]
                ReturnedItem.bin == bin_k, col(ReturnedItem.emptied_at).is_(None))
                .values(emptied_at=utcnow()))
            session.commit()
        return taken
