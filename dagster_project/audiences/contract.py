"""Contract of the dbt marts the audience layer reads (column names, event types, consent).

Kept in one place so a change in the marts is a one-line change here; the build step checks
the real tables against it (`build.validate_against_database`).
"""

from __future__ import annotations

PROFILE_COLUMNS: tuple[str, ...] = (
    "person_id", "first_name", "last_name", "email", "phone", "street", "house_number",
    "postcode", "city", "country", "date_of_birth", "first_seen_at", "last_seen_at",
    "source_record_count", "order_count", "total_revenue", "average_order_value",
    "first_order_at", "last_order_date", "days_since_last_order", "recency_score",
    "frequency_score", "monetary_score", "favourite_categories", "top_category",
    "preferred_channel", "service_contact_count", "loyalty_tier", "is_loyalty_member",
    "has_email_consent", "has_sms_consent", "has_ads_consent", "has_phone_consent",
    "has_personalisation_consent", "page_views_30d",
    "add_to_cart_30d", "email_clicks_30d", "purchase_stage",
)  # fmt: skip

# Contract of marts.customer_events.event_type.
EVENT_TYPES: tuple[str, ...] = (
    "purchase", "page_view", "add_to_cart", "login", "email_open", "email_click",
    "service_contact", "ads_consent_granted", "ads_consent_withdrawn",
)  # fmt: skip

# Consent channel -> boolean profile column that must be true (None: no consent needed).
CONSENT_COLUMNS: dict[str, str | None] = {
    "email": "has_email_consent",
    "sms": "has_sms_consent",
    "phone": "has_phone_consent",
    "ads": "has_ads_consent",
    "personalisation": "has_personalisation_consent",
    "none": None,
}

# Extra name a profile expression may use: the reference date of the run (DATE).
PROFILE_PARAMETERS: tuple[str, ...] = ("as_of",)

DEFAULT_FIELDS: tuple[str, ...] = (
    "first_name", "last_name", "email", "phone", "city", "country",
    "loyalty_tier", "purchase_stage",
)  # fmt: skip

# Output columns every audience table has besides its carried fields.
RESERVED_COLUMNS: frozenset[str] = frozenset(
    {"person_id", "category", "audience_name", "computed_at"}
)
