"""The purge: tables that survive runs, found by column name, lose an erased person's rows."""

from __future__ import annotations

import duckdb
import pytest

from dagster_project.privacy.erasure import column_kind, purge_erased, resolve_person
from dagster_project.privacy.suppression import SuppressionList, identifier_hash

KEY = b"test-key-0123456789abcdef"


def _list(**values: list[str]) -> SuppressionList:
    supp = SuppressionList()
    for kind, vs in values.items():
        supp.hashes[kind] |= {identifier_hash(KEY, kind, v) for v in vs}
    return supp


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        ("person_id", "person"),
        ("old_person_id", "person"),
        ("new_person_id", "person"),
        ("record_key", "record"),
        ("record_key_l", "record"),
        ("consent_record_key", "record"),
        ("source_record_id", "id"),
        ("cookie_id", "id"),
        ("email", "email"),
        ("phone", "phone"),
        ("audience", None),
        ("person_channel_id", None),
    ],
)
def test_column_kind(column, kind):
    assert column_kind(column) == kind


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("""
        create schema identity; create schema audiences; create schema activation;
        create schema quarantine; create schema raw;
        create table identity.person_id_history (old_person_id varchar, new_person_id varchar);
        insert into identity.person_id_history values ('P1', 'P2'), ('P3', 'P4');
        create table audiences.membership_history (person_id varchar, audience varchar);
        insert into audiences.membership_history values ('P2', 'a'), ('P4', 'a'), ('P4', 'b');
        create table activation.delivered_members (person_id varchar, email varchar);
        insert into activation.delivered_members values ('P9', 'fie@x.nl'), ('P4', 'keep@x.nl');
        create table identity.blocked_links (record_key_l varchar, record_key_r varchar);
        insert into identity.blocked_links values ('shop__c:1', 'shop__c:2'), ('shop__c:3', 'shop__c:4');
        create table quarantine.quarantined_rows (source varchar, file varchar, row_number bigint,
            raw_row varchar, reason varchar, loaded_at timestamp);
        insert into quarantine.quarantined_rows values
            ('shop__c', 'f.csv', 1, '{"id": "9", "email": "FIE@X.NL"}', 'bad date', null),
            ('shop__c', 'f.csv', 2, '{"id": "8", "email": "other@x.nl"}', 'bad date', null);
        create table raw.shop__c (record_id varchar, person_id varchar);
        insert into raw.shop__c values ('1', 'P2');
    """)
    return con


def test_purge_deletes_erased_rows_everywhere_but_rebuilt_schemas(con):
    supp = _list(person=["P1", "P2"], record=["shop__c:1"], email=["fie@x.nl"])
    result = purge_erased(con, supp, KEY)
    assert result.deleted == {
        "identity.person_id_history": 1,
        "audiences.membership_history": 1,
        "activation.delivered_members": 1,
        "identity.blocked_links": 1,
        "quarantine.quarantined_rows": 1,
    }
    assert con.execute("select * from identity.person_id_history").fetchall() == [("P3", "P4")]
    assert con.execute("select count(*) from audiences.membership_history").fetchone()[0] == 2
    assert (
        con.execute("select count(*) from raw.shop__c").fetchone()[0] == 1
    )  # rebuilt by the loader
    again = purge_erased(con, supp, KEY)
    assert again.deleted == {}


def test_empty_list_purges_nothing_and_hashes_nothing(con):
    result = purge_erased(con, SuppressionList(), b"")
    assert (result.deleted, result.values_hashed) == ({}, 0)


def test_resolve_expands_one_identifier_to_the_whole_person():
    con = duckdb.connect()
    con.execute("""
        create schema identity; create schema staging;
        create table identity.person_map (record_key varchar, source varchar,
            source_record_id varchar, person_id varchar);
        insert into identity.person_map values
            ('shop__c:1', 'shop__c', '1', 'P1'), ('news__s:S1', 'news__s', 'S1', 'P1'),
            ('web_analytics__cookies:ck', 'web_analytics__cookies', 'ck', 'P1'),
            ('shop__c:2', 'shop__c', '2', 'P2');
        create table identity.int_person_records_unioned (record_key varchar, email varchar,
            phone varchar, account_id varchar);
        insert into identity.int_person_records_unioned values
            ('shop__c:1', 'fie@x.nl', '+31612345678', '1'), ('news__s:S1', 'sophia@x.com', null, null),
            ('shop__c:2', 'jan@x.nl', null, '2');
        create table staging.stg_shop__orders (order_id varchar, person_record_id varchar);
        insert into staging.stg_shop__orders values ('O1', '1'), ('O2', '2');
    """)
    ids, found = resolve_person(con, phone="06-12345678")
    assert found
    assert ids.values["person"] == {"P1"}
    assert ids.values["email"] == {"fie@x.nl", "sophia@x.com"}
    assert ids.values["record"] == {"shop__c:1", "news__s:S1", "web_analytics__cookies:ck"}
    assert ids.values["id"] == {"1", "S1", "ck", "O1"}
    unknown, found = resolve_person(con, email="nobody@x.nl")
    assert not found and unknown.values["email"] == {"nobody@x.nl"}
    with pytest.raises(ValueError, match="not an e-mail"):
        resolve_person(con, email="nope")


def test_a_shared_mailbox_is_not_erased_with_one_of_its_people():
    con = duckdb.connect()
    con.execute("""
        create schema identity;
        create table identity.person_map (record_key varchar, source varchar,
            source_record_id varchar, person_id varchar);
        insert into identity.person_map values
            ('shop__c:1', 'shop__c', '1', 'P1'), ('news__s:S1', 'news__s', 'S1', 'P1'),
            ('shop__c:2', 'shop__c', '2', 'P2');
        create table identity.int_person_records_unioned (record_key varchar, email varchar,
            phone varchar, account_id varchar);
        insert into identity.int_person_records_unioned values
            ('shop__c:1', 'family@x.nl', '+31201234567', '1'),
            ('news__s:S1', 'mother@x.nl', null, null),
            ('shop__c:2', 'family@x.nl', '+31201234567', '2');
    """)
    with pytest.raises(ValueError, match="belongs to 2 different people"):
        resolve_person(con, email="family@x.nl")
    ids, found = resolve_person(con, person_id="P1")
    assert found
    assert ids.values["email"] == {"mother@x.nl"}  # the family mailbox stays with P2
    assert ids.values["phone"] == set()
    assert ids.values["record"] == {"shop__c:1", "news__s:S1"}
