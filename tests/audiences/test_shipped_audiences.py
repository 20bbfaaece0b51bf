"""The shipped audiences of config/audiences.yml on crafted people, window edges included."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dagster_project.audiences import build_audience, load_audiences
from dagster_project.audiences.spec import DEFAULT_CONFIG_PATH

from .conftest import AS_OF, Warehouse

CONFIG = load_audiences(DEFAULT_CONFIG_PATH)


def members(wh: Warehouse, name: str) -> set:
    """Build `name` (with what it excludes built first) and return its member keys."""
    spec = CONFIG.get(name)
    build_audience(wh.con, spec, AS_OF, run_id="t")
    cols = "person_id, category" if spec.per_category else "person_id"
    rows = wh.con.execute(f"SELECT {cols} FROM audiences.{name}").fetchall()
    return {r if spec.per_category else r[0] for r in rows}


def test_shipped_spec_has_the_required_audiences() -> None:
    required = {
        "category_interest_no_purchase": "email",
        "bought_last_7_days": "none",
        "loyal_high_value": "email",
        "lapsed_churn_risk": "email",
        "cart_abandoners": "email",
        "newsletter_engaged_non_buyers": "email",
    }
    assert {n: CONFIG.get(n).consent for n in required} == required
    assert CONFIG.get("category_interest_no_purchase").per_category
    assert "bought_last_7_days" in CONFIG.get("cart_abandoners").exclude
    assert "bought_last_7_days" in CONFIG.get("category_interest_no_purchase").exclude
    names = CONFIG.names
    for spec in CONFIG:
        for other in spec.exclude:
            assert names.index(other) < names.index(spec.name)


def test_bought_last_7_days(wh: Warehouse) -> None:
    wh.person("edge_in")
    wh.event("edge_in", "purchase", 6, at="00:00")  # first second of the 7-day window
    wh.person("today")
    wh.event("today", "purchase", 0, at="23:59")
    wh.person("edge_out")
    wh.event("edge_out", "purchase", 7, at="23:59")
    wh.person("future")
    wh.event("future", "purchase", -1, at="00:00")  # after as_of: ignored
    wh.person("no_consent", has_email_consent=False, has_sms_consent=False, has_ads_consent=False)
    wh.event("no_consent", "purchase", 1)
    wh.person("viewer")
    wh.event("viewer", "page_view", 1)
    assert members(wh, "bought_last_7_days") == {"edge_in", "today", "no_consent"}


def test_category_interest_no_purchase(wh: Warehouse) -> None:
    wh.person("a")
    wh.events("a", "page_view", [0, 10, 29], "shoes")
    wh.events("a", "page_view", [1, 2], "bags")  # only 2 in bags
    wh.person("mixed")
    wh.events("mixed", "page_view", [1, 2], "shoes")
    wh.event("mixed", "add_to_cart", 3, "shoes")
    wh.person("clicks")
    wh.events("clicks", "email_click", [1, 2, 3], "garden")
    wh.person("too_old")
    wh.events("too_old", "page_view", [1, 2, 30], "shoes")
    wh.person("logins")
    wh.events("logins", "login", [1, 2, 3], "shoes")
    wh.person("bought_cat")  # bought shoes 29 days ago, still browsing bags
    wh.events("bought_cat", "page_view", [1, 2, 3], "shoes")
    wh.event("bought_cat", "purchase", 29, "shoes")
    wh.events("bought_cat", "page_view", [1, 2, 3], "bags")
    wh.person("bought_long_ago")
    wh.events("bought_long_ago", "page_view", [1, 2, 3], "shoes")
    wh.event("bought_long_ago", "purchase", 30, "shoes")
    wh.person("bought_other")
    wh.events("bought_other", "page_view", [1, 2, 3], "shoes")
    wh.event("bought_other", "purchase", 10, "bags")
    wh.person("recent_buyer")  # any purchase in 7 days -> suppressed
    wh.events("recent_buyer", "page_view", [1, 2, 3], "shoes")
    wh.event("recent_buyer", "purchase", 3, "bags")
    wh.person("no_consent", has_email_consent=False)
    wh.events("no_consent", "page_view", [1, 2, 3], "shoes")
    wh.person("no_category")
    wh.events("no_category", "page_view", [1, 2, 3], None)

    assert members(wh, "category_interest_no_purchase") == {
        ("a", "shoes"),
        ("mixed", "shoes"),
        ("clicks", "garden"),
        ("bought_cat", "bags"),
        ("bought_long_ago", "shoes"),
        ("bought_other", "shoes"),
    }


def test_loyal_high_value(wh: Warehouse) -> None:
    wh.person("vip", order_count=2, monetary_score=4)
    wh.person("one_order", order_count=1, monetary_score=5)
    wh.person("low_spend", order_count=3, monetary_score=3)
    wh.person("unscored", order_count=3, monetary_score=None)
    wh.person("vip_recent", order_count=5, monetary_score=5)
    wh.event("vip_recent", "purchase", 2)
    wh.person("vip_no_consent", order_count=5, monetary_score=5, has_email_consent=False)
    assert members(wh, "loyal_high_value") == {"vip"}


def test_lapsed_churn_risk(wh: Warehouse) -> None:
    d = lambda n: AS_OF - timedelta(days=n)  # noqa: E731
    wh.person("at_180", order_count=1, last_order_date=d(180), purchase_stage="first_purchase")
    wh.person("at_179", order_count=1, last_order_date=d(179), purchase_stage="first_purchase")
    wh.person("at_365", order_count=2, last_order_date=d(365), purchase_stage="repeat_loyal")
    wh.person("at_366", order_count=2, last_order_date=d(366), purchase_stage="repeat_loyal")
    wh.person("lapsed", order_count=1, last_order_date=d(500), purchase_stage="lapsed")
    wh.person("lapsed_active", order_count=1, last_order_date=d(500), purchase_stage="lapsed")
    wh.event("lapsed_active", "page_view", 59)
    wh.person(
        "lapsed_active_long_ago", order_count=1, last_order_date=d(500), purchase_stage="lapsed"
    )
    wh.event("lapsed_active_long_ago", "page_view", 60)
    wh.person("lapsed_opens_mail", order_count=1, last_order_date=d(500), purchase_stage="lapsed")
    wh.event("lapsed_opens_mail", "email_open", 1)
    wh.person("lapsed_no_consent", purchase_stage="lapsed", has_email_consent=False)
    wh.person("never_bought")
    assert members(wh, "lapsed_churn_risk") == {
        "at_180",
        "at_365",
        "lapsed",
        "lapsed_active_long_ago",
        "lapsed_opens_mail",
    }


def test_cart_abandoners(wh: Warehouse) -> None:
    wh.person("edge_in")
    wh.event("edge_in", "add_to_cart", 13, at="00:00")
    wh.person("edge_out")
    wh.event("edge_out", "add_to_cart", 14, at="23:59")
    wh.person("bought_after")
    wh.event("bought_after", "add_to_cart", 10, at="12:00")
    wh.event("bought_after", "purchase", 10, at="13:00")
    wh.person("bought_before")
    wh.event("bought_before", "purchase", 12)
    wh.event("bought_before", "add_to_cart", 10)
    wh.person("added_again")  # bought after the first add, then added again
    wh.event("added_again", "add_to_cart", 12)
    wh.event("added_again", "purchase", 11)
    wh.event("added_again", "add_to_cart", 9)
    wh.person("recent_buyer")  # bought 6 days ago (before the add): suppression list
    wh.event("recent_buyer", "purchase", 6)
    wh.event("recent_buyer", "add_to_cart", 5)
    wh.person("buys_tomorrow")
    wh.event("buys_tomorrow", "add_to_cart", 2)
    wh.event("buys_tomorrow", "purchase", -1)
    wh.person("no_consent", has_email_consent=False)
    wh.event("no_consent", "add_to_cart", 1)
    assert members(wh, "cart_abandoners") == {
        "edge_in",
        "bought_before",
        "added_again",
        "buys_tomorrow",
    }
    size = wh.con.execute(
        "SELECT size, size_before_consent, size_before_exclusions "
        "FROM audiences.audience_size_history WHERE audience_name = 'cart_abandoners'"
    ).fetchone()
    # rule: 4 + recent_buyer + no_consent; consent drops no_consent; exclusion drops recent_buyer
    assert size == (4, 6, 5)


def test_newsletter_engaged_non_buyers(wh: Warehouse) -> None:
    wh.person("opener")
    wh.event("opener", "email_open", 29, at="00:00")
    wh.person("clicker")
    wh.event("clicker", "email_click", 5)
    wh.person("stale")
    wh.event("stale", "email_open", 30, at="23:59")
    wh.person("old_buyer")
    wh.event("old_buyer", "email_open", 2)
    wh.event("old_buyer", "purchase", 400)
    wh.person("buys_later")
    wh.event("buys_later", "email_open", 2)
    wh.event("buys_later", "purchase", -3)
    wh.person("browser")
    wh.event("browser", "page_view", 2)
    wh.person("no_consent", has_email_consent=False)
    wh.event("no_consent", "email_click", 2)
    assert members(wh, "newsletter_engaged_non_buyers") == {"opener", "clicker", "buys_later"}


@pytest.mark.parametrize("name", CONFIG.names)
def test_every_shipped_audience_builds_on_an_empty_warehouse(wh: Warehouse, name: str) -> None:
    result = build_audience(wh.con, CONFIG.get(name), AS_OF, run_id="empty")
    assert result.size == 0
    cols = [r[0] for r in wh.con.execute(f"DESCRIBE audiences.{name}").fetchall()]
    spec = CONFIG.get(name)
    expected = ["person_id"] + (["category"] if spec.per_category else []) + list(spec.fields)
    assert cols == expected + ["audience_name", "computed_at"]
