-- Every usable row of every raw person table reaches the Splink input exactly once, under the key
-- '<source>:<trimmed record_id>'. Returns the keys that are missing or duplicated.

{{ config(meta={'dagster': {'ref': {'name': 'int_person_records_unioned'}}}) }}

{%- set person_sources = [
    ('webshop', 'customers'),
    ('newsletter', 'subscribers'),
    ('customer_service', 'contacts'),
    ('loyalty', 'members'),
] %}

with

expected as (

    {% for system, table in person_sources -%}
    select '{{ system }}__{{ table }}:' || trim(record_id) as record_key
    from {{ source(system, table) }}
    {% if not loop.last %}union all
    {% endif -%}
    {%- endfor %}

),

actual as (

    select record_key from {{ ref('int_person_records_unioned') }}

),

expected_counts as (

    select record_key, count(*) as expected_count from expected group by record_key

),

actual_counts as (

    select record_key, count(*) as actual_count from actual group by record_key

),

mismatches as (

    select
        coalesce(expected_counts.record_key, actual_counts.record_key) as record_key,
        coalesce(expected_counts.expected_count, 0) as expected_count,
        coalesce(actual_counts.actual_count, 0) as actual_count

    from expected_counts

    full outer join actual_counts
        on expected_counts.record_key = actual_counts.record_key

    where expected_counts.record_key is null
        or actual_counts.record_key is null
        or actual_counts.actual_count <> 1

)

select * from mismatches
