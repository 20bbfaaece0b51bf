with

person_map as (

    select * from {{ source('identity', 'person_map') }}

),

person_records as (

    select * from {{ ref('int_person_records_linked') }}

),

record_stats as (

    select
        person_id,
        count(*) as source_record_count,
        min(coalesce(created_at, updated_at)) as first_record_at,
        max(coalesce(updated_at, created_at)) as last_record_at,
        sum(case when source = 'loyalty__members' then 1 else 0 end) as loyalty_record_count,
        {{ profiles_listagg_sorted('record_key', 'record_key') }} as linked_record_keys
    from person_records
    group by person_id

),

person_sources as (

    select distinct
        person_id,
        source
    from person_records

),

source_lists as (

    select
        person_id,
        {{ profiles_listagg_sorted('source', 'source') }} as sources
    from person_sources
    group by person_id

),

cookie_counts as (

    select
        person_id,
        count(*) as linked_cookie_count
    from person_map
    where source = 'web_analytics__cookies'
    group by person_id

),

loyalty_tiers_ranked as (

    -- a person with several cards keeps the tier of the most recently updated one
    select
        person_id,
        loyalty_tier,
        row_number() over (
            partition by person_id
            order by record_updated_at desc nulls last, record_key asc
        ) as tier_rank
    from person_records
    where
        source = 'loyalty__members'
        and loyalty_tier is not null

),

final as (

    select
        ---------- ids
        record_stats.person_id,

        ---------- strings
        record_stats.linked_record_keys,
        source_lists.sources,
        loyalty_tiers_ranked.loyalty_tier,

        ---------- numerics
        cast(record_stats.source_record_count as integer) as source_record_count,
        cast(coalesce(cookie_counts.linked_cookie_count, 0) as integer) as linked_cookie_count,

        ---------- booleans
        record_stats.loyalty_record_count > 0 as is_loyalty_member,

        ---------- timestamps
        record_stats.first_record_at,
        record_stats.last_record_at

    from record_stats
    left join source_lists
        on record_stats.person_id = source_lists.person_id
    left join cookie_counts
        on record_stats.person_id = cookie_counts.person_id
    left join loyalty_tiers_ranked
        on
            record_stats.person_id = loyalty_tiers_ranked.person_id
            and loyalty_tiers_ranked.tier_rank = 1

)

select * from final
