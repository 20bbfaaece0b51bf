{#-
    Behaviour per person: first/last event, 30-day counters and the preferred channel
    (most interactions over the lookback window, an order counting once however many lines
    it has; ties go to the most recent channel). Counters ignore events after as_of_date.
-#}

with

customer_events as (

    select * from {{ ref('customer_events') }}

),

event_stats as (

    select
        person_id,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at,
        sum(case when event_type = 'page_view' and {{ profiles_within_last_days('occurred_at', 30) }} then 1 else 0 end)
            as page_views_30d,
        sum(case when event_type = 'add_to_cart' and {{ profiles_within_last_days('occurred_at', 30) }} then 1 else 0 end)
            as add_to_cart_30d,
        sum(case when event_type = 'email_click' and {{ profiles_within_last_days('occurred_at', 30) }} then 1 else 0 end)
            as email_clicks_30d,
        sum(case when event_type = 'service_contact' and {{ profiles_not_after_as_of('occurred_at') }} then 1 else 0 end)
            as service_contact_count
    from customer_events
    group by person_id

),

channel_interactions as (

    select
        person_id,
        channel,
        count(distinct coalesce(order_id, event_id)) as interaction_count,
        max(occurred_at) as last_interaction_at
    from customer_events
    where {{ profiles_within_last_days('occurred_at', profiles_var('profile_lookback_days')) }}
    group by
        person_id,
        channel

),

channels_ranked as (

    select
        *,
        row_number() over (
            partition by person_id
            order by
                interaction_count desc,
                last_interaction_at desc,
                channel asc
        ) as channel_rank
    from channel_interactions

),

preferred_channels as (

    select
        person_id,
        channel as preferred_channel
    from channels_ranked
    where channel_rank = 1

),

final as (

    select
        ---------- ids
        event_stats.person_id,

        ---------- strings
        preferred_channels.preferred_channel,

        ---------- numerics
        cast(event_stats.page_views_30d as integer) as page_views_30d,
        cast(event_stats.add_to_cart_30d as integer) as add_to_cart_30d,
        cast(event_stats.email_clicks_30d as integer) as email_clicks_30d,
        cast(event_stats.service_contact_count as integer) as service_contact_count,

        ---------- timestamps
        event_stats.first_event_at,
        event_stats.last_event_at

    from event_stats
    left join preferred_channels
        on event_stats.person_id = preferred_channels.person_id

)

select * from final
