with

consent_events as (

    select * from {{ ref('int_consent_events') }}

),

ranked as (

    -- the most recent choice wins; on a tie a withdrawal beats a grant
    select
        *,
        row_number() over (
            partition by person_id, channel
            order by
                occurred_at desc nulls last,
                case when is_granted then 1 else 0 end asc,
                source asc,
                record_key asc,
                consent_event_id asc
        ) as recency_rank,
        count(*) over (partition by person_id, channel) as consent_event_count
    from consent_events

),

final as (

    select
        ---------- ids
        {{ dbt.concat(["person_id", "':'", "channel"]) }} as person_channel_id,
        person_id,
        record_key as consent_record_key,

        ---------- strings
        channel,
        source as consent_source,

        ---------- numerics
        cast(consent_event_count as integer) as consent_event_count,

        ---------- booleans
        coalesce(is_granted, false) as has_consent,

        ---------- timestamps
        occurred_at as consent_updated_at

    from ranked
    where recency_rank = 1

)

select * from final
