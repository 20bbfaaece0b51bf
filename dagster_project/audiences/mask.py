"""Mask personal data for previews and logs (never for the audience tables themselves)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Columns blanked entirely in a preview sample.
_REDACTED = frozenset({"street", "house_number", "postcode", "date_of_birth"})


def mask_email(email: str | None) -> str | None:
    """Keep the first character of the local part and the domain.

    Example: ``sanne.devries@provider.nl`` -> ``s***@provider.nl``.
    """
    if email is None:
        return None
    email = email.strip()
    local, sep, domain = email.rpartition("@")
    if not sep or not local:
        return "***"
    return f"{local[0]}***@{domain}"


def mask_phone(phone: str | None) -> str | None:
    """Keep the first four and last four characters of a phone number.

    Example: ``+31612345678`` -> ``+316****5678``. Short numbers keep only the last two.
    """
    if phone is None:
        return None
    phone = "".join(phone.split())
    if len(phone) <= 8:
        return "*" * max(len(phone) - 2, 1) + phone[-2:]
    return f"{phone[:4]}****{phone[-4:]}"


def mask_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of a profile-like row with contact details masked.

    e-mail and phone (also `*_email`, `*_phone` columns) are partially masked, the last name
    is cut to its initial, a full name to initials, and address and birth date are redacted;
    other values are kept.
    """
    out: dict[str, Any] = {}
    for key, value in record.items():
        if value is None:
            out[key] = None
        elif key == "email" or key.endswith("_email"):
            out[key] = mask_email(str(value))
        elif key == "phone" or key.endswith("_phone"):
            out[key] = mask_phone(str(value))
        elif key == "last_name":
            out[key] = f"{str(value)[:1]}."
        elif key == "full_name":
            out[key] = " ".join(f"{part[:1]}." for part in str(value).split())
        elif key in _REDACTED:
            out[key] = "***"
        else:
            out[key] = value
    return out
