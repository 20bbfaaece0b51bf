{#-
    Interest per person and category over the lookback window (the 365 calendar days ending on
    as_of_date, var profile_lookback_days): purchase line 3, add to cart 2, e-mail click 2,
    page view 1 (var profile_category_weights).
-#}
{%- set weights = profiles_var('profile_category_weights') -%}

with

customer_events as (

    select * from {{ ref('customer_events') }}

),

weighted_events as (

    select
        person_id,
        category,
        occurred_at,
        {{ profiles_category_weight('event_type') }} as weight
    from customer_events
    where
        category is not null
        and event_type in ('{{ weights.keys() | join("', '") }}')
        and {{ profiles_within_last_days('occurred_at', profiles_var('profile_lookback_days')) }}

),

category_scores as (

    select
        person_id,
        category,
        sum(weight) as category_score,
        count(*) as event_count,
        max(occurred_at) as last_interaction_at
    from weighted_events
    group by
        person_id,
        category

),

ranked as (

    select
        *,
        row_number() over (
            partition by person_id
            order by
                category_score desc,
                last_interaction_at desc,
                category asc
        ) as category_rank
    from category_scores

),

final as (

    select
        ---------- ids
        {{ dbt.concat(["person_id", "':'", "category"]) }} as person_category_id,
        person_id,

        ---------- strings
        category,

        ---------- numerics
        cast(category_score as integer) as category_score,
        cast(event_count as integer) as event_count,
        cast(category_rank as integer) as category_rank,

        ---------- timestamps
        last_interaction_at

    from ranked

)

select * from final
