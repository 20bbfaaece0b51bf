{#-
    Order traits per buyer, as of var('as_of_date'): orders after that day are ignored.
    Scores are quintiles (1-5) of the percent rank among buyers; tied values share a score.
-#}

with

person_map as (

    select * from {{ source('identity', 'person_map') }}

),

webshop_orders as (

    select * from {{ ref('stg_webshop__orders') }}

),

loyalty_transactions as (

    select * from {{ ref('stg_loyalty__transactions') }}

),

orders as (

    select
        order_id,
        person_source,
        person_record_id,
        ordered_at,
        total_amount,
        channel
    from webshop_orders

    union all

    select
        order_id,
        person_source,
        person_record_id,
        ordered_at,
        total_amount,
        channel
    from loyalty_transactions

),

person_orders as (

    select
        person_map.person_id,
        orders.order_id,
        orders.ordered_at,
        orders.total_amount,
        orders.channel
    from orders
    inner join person_map
        on person_map.record_key
        = {{ dbt.concat(["orders.person_source", "':'", "orders.person_record_id"]) }}
    where {{ profiles_not_after_as_of('orders.ordered_at') }}

),

order_totals as (

    select
        person_id,
        count(*) as order_count,
        sum(case when channel = 'webshop' then 1 else 0 end) as webshop_order_count,
        sum(case when channel = 'store' then 1 else 0 end) as store_order_count,
        coalesce(sum(total_amount), 0) as total_revenue,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at
    from person_orders
    group by person_id

),

order_recency as (

    select
        *,
        cast(last_order_at as date) as last_order_date,
        {{ dbt.datediff('cast(last_order_at as date)', as_of_date(), 'day') }} as days_since_last_order
    from order_totals

),

scored as (

    select
        *,
        least(5, 1 + floor(5 * percent_rank() over (order by last_order_date asc nulls first)))
            as recency_score,
        least(5, 1 + floor(5 * percent_rank() over (order by order_count asc)))
            as frequency_score,
        least(5, 1 + floor(5 * percent_rank() over (order by total_revenue asc)))
            as monetary_score
    from order_recency

),

final as (

    select
        ---------- ids
        person_id,

        ---------- numerics
        cast(order_count as integer) as order_count,
        cast(webshop_order_count as integer) as webshop_order_count,
        cast(store_order_count as integer) as store_order_count,
        cast(total_revenue as decimal(18, 2)) as total_revenue,
        cast(round(total_revenue / order_count, 2) as decimal(18, 2)) as average_order_value,
        cast(days_since_last_order as integer) as days_since_last_order,
        cast(recency_score as integer) as recency_score,
        cast(frequency_score as integer) as frequency_score,
        cast(monetary_score as integer) as monetary_score,

        ---------- dates
        last_order_date,

        ---------- timestamps
        first_order_at,
        last_order_at

    from scored

)

select * from final
