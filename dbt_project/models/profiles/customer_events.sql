with

person_map as (

    select * from {{ source('identity', 'person_map') }}

),

person_records as (

    select * from {{ ref('int_person_records_linked') }}

),

webshop_orders as (

    select * from {{ ref('stg_webshop__orders') }}

),

webshop_order_lines as (

    select * from {{ ref('stg_webshop__order_lines') }}

),

loyalty_transactions as (

    select * from {{ ref('stg_loyalty__transactions') }}

),

email_events as (

    select * from {{ ref('stg_newsletter__email_events') }}

),

web_events as (

    select * from {{ ref('stg_web_analytics__events') }}

),

cookie_persons as (

    -- only cookies seen at a login are in person_map; events of other cookies stay anonymous
    select
        person_id,
        record_key,
        source_record_id as cookie_id
    from person_map
    where source = 'web_analytics__cookies'

),

webshop_purchases as (

    -- one event per order line, so category interest and basket contents stay visible
    select
        {{ dbt.concat(["'webshop__order_lines:'", "webshop_order_lines.order_line_id"]) }} as event_id,
        person_map.person_id,
        'purchase' as event_type,
        webshop_orders.ordered_at as occurred_at,
        webshop_order_lines.category,
        cast(webshop_order_lines.line_amount as decimal(18, 2)) as amount,
        webshop_orders.order_id,
        webshop_orders.channel,
        'webshop__order_lines' as source,
        person_map.record_key
    from webshop_order_lines
    inner join webshop_orders
        on webshop_order_lines.order_id = webshop_orders.order_id
    inner join person_map
        on person_map.record_key
        = {{ dbt.concat(["webshop_orders.person_source", "':'", "webshop_orders.person_record_id"]) }}

),

store_purchases as (

    select
        {{ dbt.concat(["'loyalty__transactions:'", "loyalty_transactions.order_id"]) }} as event_id,
        person_map.person_id,
        'purchase' as event_type,
        loyalty_transactions.ordered_at as occurred_at,
        loyalty_transactions.category,
        cast(loyalty_transactions.total_amount as decimal(18, 2)) as amount,
        loyalty_transactions.order_id,
        loyalty_transactions.channel,
        'loyalty__transactions' as source,
        person_map.record_key
    from loyalty_transactions
    inner join person_map
        on person_map.record_key
        = {{ dbt.concat(["loyalty_transactions.person_source", "':'", "loyalty_transactions.person_record_id"]) }}

),

web_activity as (

    -- all events of a logged-in cookie, including the anonymous ones before the login
    select
        {{ dbt.concat(["'web_analytics__events:'", "web_events.event_id"]) }} as event_id,
        cookie_persons.person_id,
        web_events.event_type,
        web_events.occurred_at,
        web_events.category,
        cast(null as decimal(18, 2)) as amount,
        cast(null as {{ dbt.type_string() }}) as order_id,
        'web' as channel,
        'web_analytics__events' as source,
        cookie_persons.record_key
    from web_events
    inner join cookie_persons
        on web_events.cookie_id = cookie_persons.cookie_id
    -- event types outside the vocabulary are not behaviour audiences can use
    where web_events.event_type in (
        'page_view', 'add_to_cart', 'login', 'ads_consent_granted', 'ads_consent_withdrawn'
    )

),

email_activity as (

    select
        {{ dbt.concat(["'newsletter__email_events:'", "email_events.event_id"]) }} as event_id,
        person_map.person_id,
        email_events.event_type,
        email_events.occurred_at,
        email_events.category,
        cast(null as decimal(18, 2)) as amount,
        cast(null as {{ dbt.type_string() }}) as order_id,
        'email' as channel,
        'newsletter__email_events' as source,
        person_map.record_key
    from email_events
    inner join person_map
        on person_map.record_key
        = {{ dbt.concat(["email_events.person_source", "':'", "email_events.person_record_id"]) }}
    where email_events.event_type in ('email_open', 'email_click')

),

service_contacts as (

    -- every customer service contact record is one contact moment
    select
        {{ dbt.concat(["'customer_service__contacts:'", "person_records.source_record_id"]) }} as event_id,
        person_records.person_id,
        'service_contact' as event_type,
        person_records.created_at as occurred_at,
        cast(null as {{ dbt.type_string() }}) as category,
        cast(null as decimal(18, 2)) as amount,
        cast(null as {{ dbt.type_string() }}) as order_id,
        'service' as channel,
        'customer_service__contacts' as source,
        person_records.record_key
    from person_records
    where person_records.source = 'customer_service__contacts'

),

unioned as (

    select * from webshop_purchases
    union all
    select * from store_purchases
    union all
    select * from web_activity
    union all
    select * from email_activity
    union all
    select * from service_contacts

),

final as (

    select
        ---------- ids
        event_id,
        person_id,
        order_id,
        record_key,

        ---------- strings
        event_type,
        channel,
        category,
        source,

        ---------- numerics
        amount,

        ---------- timestamps
        occurred_at

    from unioned

)

select * from final
