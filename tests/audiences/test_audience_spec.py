"""Spec validation, ordering, SQL compilation details and masking."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dagster_project.audiences import (
    AudienceSpecError,
    audience_sql,
    load_audiences,
    parse_audiences,
    resolve_as_of,
    topological_order,
)
from dagster_project.audiences.mask import mask_email, mask_phone, mask_record


def aud(name: str = "promo", **extra) -> dict:
    base = {"name": name, "description": "d", "consent": "email", "rule": {"profile": "true"}}
    base.update(extra)
    return base


def error_of(*audiences: dict) -> str:
    with pytest.raises(AudienceSpecError) as info:
        parse_audiences({"audiences": list(audiences)})
    return str(info.value)


@pytest.mark.parametrize(
    ("audience", "fragment"),
    [
        (aud(consent="fax"), "unknown consent channel 'fax'"),
        (aud(consent=None), "unknown consent channel None"),
        (aud(rule={"events": [{"type": "page_veiw"}]}), "unknown event type 'page_veiw'"),
        (
            aud(rule={"no_events": [{"type": ["purchase", "refund"]}]}),
            "unknown event type 'refund'",
        ),
        (aud(exclude=["nope"]), "unknown exclusion 'nope'"),
        (aud(exclude=["promo"]), "excludes itself"),
        (
            aud(rule={"events": [{"type": "purchase", "within_days": 0}]}),
            "bad window within_days=0",
        ),
        (aud(rule={"events": [{"type": "purchase", "within_days": -7}]}), "bad window"),
        (aud(rule={"events": [{"type": "purchase", "within_days": "30"}]}), "bad window"),
        (aud(rule={"events": [{"type": "purchase", "within_days": True}]}), "bad window"),
        (aud(rule={"events": [{"type": "purchase", "within_days": 99999}]}), "bad window"),
        (aud(rule={"events": [{"type": "purchase", "min_count": 0}]}), "min_count"),
        (
            aud(
                rule={
                    "events": [{"type": "add_to_cart"}],
                    "no_events": [
                        {"type": "purchase", "within_days": 3, "since_last": "add_to_cart"}
                    ],
                }
            ),
            "either within_days or since_last",
        ),
        (
            aud(
                rule={
                    "events": [{"type": "page_view"}],
                    "no_events": [{"type": "purchase", "since_last": "add_to_cart"}],
                }
            ),
            "since_last ['add_to_cart'] must be event types required by rule.events",
        ),
        (
            aud(rule={"profile": "order_cnt >= 3 and total_revenue > 5"}),
            "unknown columns ['order_cnt']",
        ),
        (aud(rule={"profile": "p.order_count > 1"}), "unknown columns ['p.order_count']"),
        (aud(rule={"profile": "order_count >= "}), "does not parse"),
        (aud(rule={"profile": "true; drop table marts.customer_profiles"}), "single expression"),
        (
            aud(rule={"profile": "person_id in (select person_id from marts.customer_events)"}),
            "subqueries",
        ),
        (aud(rule={}), "rule is empty"),
        (aud(rule=None), "rule is required"),
        (aud(rule={"profile": "true", "event": []}), "unknown keys ['event']"),
        (aud(rule={"events": [{"type": "purchase", "days": 3}]}), "unknown keys ['days']"),
        (aud(fields=["email", "shoe_size"]), "unknown field 'shoe_size'"),
        (aud(fields=["person_id"]), "always present"),
        (aud(per_category=True), "per_category audiences need"),
        (
            aud(rule={"events": [{"type": "purchase", "any_category": True}]}),
            "only meaningful with per_category",
        ),
        (aud(name="Promo-Mail"), "snake_case"),
        (aud(description=""), "description is required"),
        (aud(colour="red"), "unknown keys ['colour']"),
    ],
)
def test_validation_errors_name_the_audience_and_problem(audience: dict, fragment: str) -> None:
    message = error_of(audience)
    assert fragment in message
    if "snake_case" not in fragment:
        assert "audience 'promo'" in message


def test_lambda_parameters_are_not_columns() -> None:
    config = parse_audiences(
        {
            "audiences": [
                aud(
                    rule={
                        "profile": "len(list_filter(favourite_categories, lambda c: c = 'shoes')) > 0 and as_of > first_seen_at"
                    }
                )
            ]
        }
    )
    assert config.get("promo").rule.profile.startswith("len(")


def test_exclusion_cycle_is_reported_with_its_path() -> None:
    message = error_of(aud("a", exclude=["b"]), aud("b", exclude=["c"]), aud("c", exclude=["a"]))
    assert "exclusion cycle a -> b -> c -> a" in message


def test_duplicate_names_are_rejected() -> None:
    assert "duplicate audience name" in error_of(aud("x"), aud("x"))


def test_names_of_other_audience_tables_are_reserved() -> None:
    assert "reserved" in error_of(aud("audience_size_history"))


def test_all_problems_are_reported_together() -> None:
    message = error_of(aud("one", consent="fax"), aud("two", rule={"events": [{"type": "nope"}]}))
    assert "audience 'one'" in message and "audience 'two'" in message


def test_topological_order_puts_dependencies_first() -> None:
    order = topological_order({"promo": ["supp", "vip"], "vip": ["supp"], "supp": [], "other": []})
    assert order.index("supp") < order.index("vip") < order.index("promo")
    assert set(order) == {"promo", "vip", "supp", "other"}


def test_unresolved_exclusions_are_refused() -> None:
    from dataclasses import replace

    spec = load_audiences().get("cart_abandoners")
    with pytest.raises(ValueError, match="not resolved"):
        audience_sql(replace(spec, excluded=()), date(2024, 1, 1))


def test_load_reports_yaml_and_file_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(AudienceSpecError, match="cannot read"):
        load_audiences(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("audiences: [\n")
    with pytest.raises(AudienceSpecError, match="not valid YAML"):
        load_audiences(bad)
    monkeypatch.setenv("CDP_AUDIENCES_CONFIG", str(bad))
    with pytest.raises(AudienceSpecError, match="not valid YAML"):
        load_audiences()
    bad.write_text("audience: []\n")
    with pytest.raises(AudienceSpecError, match="'audiences' list"):
        load_audiences(bad)


def test_compiled_sql_uses_as_of_and_consent() -> None:
    spec = load_audiences().get("cart_abandoners")
    sql = audience_sql(spec, date(2024, 6, 15))
    assert "TIMESTAMP '2024-06-16 00:00:00'" in sql  # events after as_of are cut off
    assert "TIMESTAMP '2024-06-02 00:00:00'" in sql  # 14-day window start
    assert "has_email_consent" in sql
    assert "audiences." not in sql  # exclusions compiled inline, no stale tables


def test_resolve_as_of(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CDP_AS_OF", raising=False)
    assert resolve_as_of() == date.today()
    monkeypatch.setenv("CDP_AS_OF", "2023-01-31")
    assert resolve_as_of() == date(2023, 1, 31)
    assert resolve_as_of("2022-02-02") == date(2022, 2, 2)
    with pytest.raises(ValueError, match="as_of"):
        resolve_as_of("yesterday")


def test_masking() -> None:
    assert mask_email("sanne@provider.nl") == "s***@provider.nl"
    assert mask_email("no-at-sign") == "***"
    assert mask_email(None) is None
    assert mask_phone("+31612345678") == "+316****5678"
    assert mask_phone("+31 6 1234 5678") == "+316****5678"
    assert mask_phone("12345") == "***45"
    record = mask_record(
        {
            "email": "jan@x.nl",
            "phone": None,
            "last_name": "Jansen",
            "street": "Dorpsstraat",
            "city": "Utrecht",
            "full_name": "Jan de Vries",
            "webshop_email": "jan.devries@x.nl",
            "mobile_phone": "0612345678",
        }
    )
    assert record == {
        "email": "j***@x.nl",
        "phone": None,
        "last_name": "J.",
        "street": "***",
        "city": "Utrecht",
        "full_name": "J. d. V.",
        "webshop_email": "j***@x.nl",
        "mobile_phone": "0612****5678",
    }
