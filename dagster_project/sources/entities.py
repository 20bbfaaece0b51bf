"""Canonical entity shapes that every source maps its columns onto.

A source config says which entity a file carries and which of its columns feeds which
canonical field. The loader writes `raw.<system>__<table>` with exactly these columns (typed),
so staging models never depend on a vendor's column names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldType = Literal["text", "date", "timestamp", "decimal", "integer", "boolean"]

# DuckDB type each canonical field type is stored as in the raw schema.
DUCKDB_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "decimal": "DECIMAL(18,2)",
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
}


@dataclass(frozen=True)
class Entity:
    name: str
    description: str
    fields: dict[str, FieldType]
    required: tuple[str, ...] = ("record_id",)


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in [
        Entity(
            name="person",
            description="A record that describes a person: an account, subscriber, contact or card holder.",
            fields={
                "record_id": "text",
                "account_id": "text",
                "first_name": "text",
                "last_name": "text",
                "full_name": "text",
                "email": "text",
                "phone": "text",
                "street": "text",
                "house_number": "text",
                "postcode": "text",
                "city": "text",
                "country": "text",
                "date_of_birth": "date",
                # when only the year is known: compared as a year, never turned into a date
                "birth_year": "integer",
                "loyalty_tier": "text",
                "contact_channel": "text",
                "email_consent": "boolean",
                "sms_consent": "boolean",
                "consent_updated_at": "timestamp",
                "created_at": "timestamp",
                "updated_at": "timestamp",
            },
        ),
        Entity(
            name="order",
            description="A purchase (web order or till receipt) by a person record.",
            fields={
                "record_id": "text",
                "person_record_id": "text",
                "ordered_at": "timestamp",
                "total_amount": "decimal",
                "store_id": "text",
                "category": "text",
            },
        ),
        Entity(
            name="order_line",
            description="One product line of an order.",
            fields={
                "record_id": "text",
                "order_id": "text",
                "product_id": "text",
                "category": "text",
                "quantity": "integer",
                "unit_price": "decimal",
            },
        ),
        Entity(
            name="event",
            description="A behavioural event: page view, add-to-cart, login, e-mail open/click, consent choice.",
            fields={
                "record_id": "text",
                "person_record_id": "text",
                "cookie_id": "text",
                "account_id": "text",
                "event_type": "text",
                "occurred_at": "timestamp",
                "category": "text",
                "ip_address": "text",
            },
        ),
        Entity(
            name="consent",
            description=(
                "A consent choice for one channel (email, sms, phone, ads, personalisation) by a "
                "person record or a cookie: cookie banner, do-not-call request."
            ),
            fields={
                "record_id": "text",
                "person_record_id": "text",
                "cookie_id": "text",
                "channel": "text",
                "is_granted": "boolean",
                "occurred_at": "timestamp",
            },
        ),
    ]
}
