with

people as (

    select person_id from {{ ref('int_person_records_aggregated') }}

),

consent_events as (

    select * from {{ ref('consent_history') }}
    where {{ profiles_not_after_as_of('occurred_at') }}

),

channels as (

    {% for channel in ['email', 'sms', 'phone', 'ads', 'personalisation'] -%}
    select '{{ channel }}' as channel
    {% if not loop.last %}union all
    {% endif %}
    {%- endfor %}

),

ranked as (

    -- the most recent choice across all the person's records wins; on a tie a withdrawal wins
    select
        *,
        row_number() over (
            partition by person_id, channel
            order by
                occurred_at desc nulls last,
                case when is_granted then 1 else 0 end asc,
                source asc,
                source_record_id asc,
                consent_event_id asc
        ) as recency_rank,
        count(*) over (partition by person_id, channel) as consent_event_count
    from consent_events

),

latest as (

    select * from ranked where recency_rank = 1

),

final as (

    -- every person x channel; no event means no consent
    select
        ---------- ids
        cast({{ dbt.concat(["people.person_id", "':'", "channels.channel"]) }} as {{ dbt.type_string() }})
            as person_channel_id,
        cast(people.person_id as {{ dbt.type_string() }}) as person_id,

        ---------- strings
        cast(channels.channel as {{ dbt.type_string() }}) as channel,
        cast(latest.source as {{ dbt.type_string() }}) as source,
        cast(latest.source_record_id as {{ dbt.type_string() }}) as source_record_id,
        cast(latest.record_key as {{ dbt.type_string() }}) as record_key,

        ---------- numerics
        cast(coalesce(latest.consent_event_count, 0) as integer) as consent_event_count,

        ---------- booleans
        coalesce(latest.is_granted, false) as is_granted,

        ---------- timestamps
        latest.occurred_at as decided_at

    from people
    cross join channels
    left join latest
        on
            people.person_id = latest.person_id
            and channels.channel = latest.channel

)

select * from final
