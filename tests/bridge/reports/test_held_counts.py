"""The lockers' door-minutes come every minute whether or not anyone is there: they are kept in
memory and written once their hour is over (or the station stops), so an idle station does not
write to its SD card every minute - and the statistics still show them at once."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bridge.db.engine import open_database
from bridge.reports.stats import Stats

NINE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def rows(db: Path) -> list[tuple[str, str, float]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT hour, name, count FROM stat_counter ORDER BY hour").fetchall()


def test_an_hour_of_door_minutes_is_one_write_and_shown_before_it(tmp_path: Path) -> None:
    db = tmp_path / "station.db"
    stats = Stats(open_database(f"sqlite:///{db}"))
    for minute in range(60):  # an idle hour's usage samples: 12 small doors, 3 in use
        stats.hold({"door_minutes_total:small": 12.0, "door_minutes_used:small": 3.0},
                   at=NINE + timedelta(minutes=minute))
    assert rows(db) == []  # nothing written while the hour runs
    shown = stats.hourly(NINE, NINE + timedelta(hours=1))[NINE]
    assert (shown["door_minutes_total:small"], shown["door_minutes_used:small"]) == (720, 180)

    stats.hold({"door_minutes_total:small": 12.0}, at=NINE + timedelta(minutes=61))
    written = rows(db)
    assert sorted((name, count) for _, name, count in written) == \
        [("door_minutes_total:small", 720.0), ("door_minutes_used:small", 180.0)]
    # The new hour's sample is held; counted once, not again from memory.
    both = stats.hourly(NINE, NINE + timedelta(hours=2))
    assert both[NINE]["door_minutes_total:small"] == 720
    assert both[NINE + timedelta(hours=1)]["door_minutes_total:small"] == 12


def test_a_stopping_station_writes_what_it_held(tmp_path: Path) -> None:
    db = tmp_path / "station.db"
    stats = Stats(open_database(f"sqlite:///{db}"))
    stats.hold({"door_minutes_total:large": 4.0}, at=NINE)
    stats.flush()
    assert [(name, count) for _, name, count in rows(db)] == [("door_minutes_total:large", 4.0)]
    again = Stats(open_database(f"sqlite:///{db}"))  # after a restart: from the database alone
    assert again.hourly(NINE, NINE + timedelta(hours=1))[NINE]["door_minutes_total:large"] == 4
