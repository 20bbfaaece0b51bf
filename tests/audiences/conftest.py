"""A hand-made warehouse: marts.customer_profiles and marts.customer_events in tmp_path.

Tests add people and events relative to AS_OF so every window edge is explicit.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

AS_OF = date(2024, 6, 15)

PROFILE_DDL = """
CREATE TABLE marts.customer_profiles (
    person_id VARCHAR, first_name VARCHAR, last_name VARCHAR, email VARCHAR, phone VARCHAR,
    street VARCHAR, house_number VARCHAR, postcode VARCHAR, city VARCHAR, country VARCHAR,
    date_of_birth DATE, first_seen_at TIMESTAMP, last_seen_at TIMESTAMP,
    source_record_count INTEGER, order_count INTEGER, total_revenue DECIMAL(18,2),
    average_order_value DECIMAL(18,2), first_order_at TIMESTAMP, last_order_date DATE,
    days_since_last_order INTEGER, recency_score INTEGER, frequency_score INTEGER,
    monetary_score INTEGER, favourite_categories VARCHAR[], top_category VARCHAR,
    preferred_channel VARCHAR, service_contact_count INTEGER, loyalty_tier VARCHAR,
    is_loyalty_member BOOLEAN, has_email_consent BOOLEAN, has_sms_consent BOOLEAN,
    has_ads_consent BOOLEAN, page_views_30d INTEGER, add_to_cart_30d INTEGER,
    email_clicks_30d INTEGER, purchase_stage VARCHAR
)
"""

EVENTS_DDL = """
CREATE TABLE marts.customer_events (
    event_id VARCHAR, person_id VARCHAR, event_type VARCHAR, occurred_at TIMESTAMP,
    category VARCHAR, amount DECIMAL(18,2), order_id VARCHAR, channel VARCHAR, source VARCHAR
)
"""


class Warehouse:
    """Helper around a DuckDB file with the two marts tables."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.con = duckdb.connect(str(path))
        self.con.execute("CREATE SCHEMA marts")
        self.con.execute(PROFILE_DDL)
        self.con.execute(EVENTS_DDL)
        self._event_seq = 0

    def person(self, person_id: str, **overrides: Any) -> str:
        """Insert a profile; consent on all channels unless overridden."""
        row: dict[str, Any] = {
            "person_id": person_id,
            "first_name": person_id.capitalize(),
            "last_name": "Jansen",
            "email": f"{person_id}@provider.nl",
            "phone": "+31612345678",
            "street": "Dorpsstraat",
            "house_number": "1",
            "postcode": "1234AB",
            "city": "Utrecht",
            "country": "NL",
            "order_count": 0,
            "is_loyalty_member": False,
            "has_email_consent": True,
            "has_sms_consent": True,
            "has_ads_consent": True,
            "purchase_stage": "orientation",
        }
        row.update(overrides)
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self.con.execute(
            f"INSERT INTO marts.customer_profiles ({cols}) VALUES ({marks})", list(row.values())
        )
        return person_id

    def event(
        self,
        person_id: str,
        event_type: str,
        days_ago: int,
        category: str | None = None,
        at: str = "12:00",
    ) -> None:
        """Insert an event `days_ago` days before AS_OF (negative: after AS_OF) at time `at`."""
        hour, minute = (int(x) for x in at.split(":"))
        day = AS_OF - timedelta(days=days_ago)
        occurred = datetime(day.year, day.month, day.day, hour, minute)
        self._event_seq += 1
        self.con.execute(
            "INSERT INTO marts.customer_events (event_id, person_id, event_type, occurred_at, "
            "category) VALUES (?, ?, ?, ?, ?)",
            [f"ev{self._event_seq}", person_id, event_type, occurred, category],
        )

    def events(
        self, person_id: str, event_type: str, days: list[int], category: str | None = None
    ) -> None:
        """Insert one event per entry of `days` (days before AS_OF)."""
        for d in days:
            self.event(person_id, event_type, d, category)

    def tables(self) -> set[str]:
        """All schema.table names in the database."""
        rows = self.con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
        ).fetchall()
        return {r[0] for r in rows}


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[Warehouse]:
    """An empty hand-made warehouse."""
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    yield warehouse
    warehouse.con.close()


@pytest.fixture(autouse=True)
def _no_as_of_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CDP_AS_OF", raising=False)
    monkeypatch.delenv("CDP_AUDIENCES_CONFIG", raising=False)
