with

person_record_stats as (

    select * from {{ ref('int_person_records_aggregated') }}

),

golden_records as (

    select * from {{ ref('int_profile_golden_records') }}

),

person_orders as (

    select * from {{ ref('int_person_orders') }}

),

person_category_scores as (

    select * from {{ ref('int_person_category_scores') }}

),

person_activity as (

    select * from {{ ref('int_person_activity') }}

),

consent_current as (

    select * from {{ ref('consent_current') }}

),

favourite_categories as (

    select
        person_id,
        max(case when category_rank = 1 then category end) as top_category,
        {{ profiles_listagg_sorted('category', 'category_rank') }} as favourite_categories
    from person_category_scores
    where category_rank <= {{ profiles_var('profile_favourite_category_count') }}
    group by person_id

),

consent_flags as (

    select
        person_id,
        max(case when channel = 'email' and is_granted then 1 else 0 end) = 1 as has_email_consent,
        max(case when channel = 'sms' and is_granted then 1 else 0 end) = 1 as has_sms_consent,
        max(case when channel = 'phone' and is_granted then 1 else 0 end) = 1 as has_phone_consent,
        max(case when channel = 'ads' and is_granted then 1 else 0 end) = 1 as has_ads_consent,
        max(case when channel = 'personalisation' and is_granted then 1 else 0 end) = 1
            as has_personalisation_consent
    from consent_current
    group by person_id

),

joined as (

    select
        person_record_stats.person_id,

        golden_records.first_name,
        golden_records.last_name,
        golden_records.name_source,
        golden_records.email,
        golden_records.email_source,
        golden_records.phone,
        golden_records.phone_source,
        golden_records.street,
        golden_records.house_number,
        golden_records.postcode,
        golden_records.city,
        golden_records.country,
        golden_records.address_source,
        golden_records.date_of_birth,
        golden_records.date_of_birth_source,

        -- earliest / latest of record timestamps and events, whichever side is present
        least(
            coalesce(person_record_stats.first_record_at, person_activity.first_event_at),
            coalesce(person_activity.first_event_at, person_record_stats.first_record_at)
        ) as first_seen_at,
        greatest(
            coalesce(person_record_stats.last_record_at, person_activity.last_event_at),
            coalesce(person_activity.last_event_at, person_record_stats.last_record_at)
        ) as last_seen_at,
        person_record_stats.source_record_count,
        person_record_stats.linked_cookie_count,
        person_record_stats.linked_record_keys,
        person_record_stats.sources,

        coalesce(person_orders.order_count, 0) as order_count,
        coalesce(person_orders.total_revenue, 0) as total_revenue,
        person_orders.average_order_value,
        person_orders.first_order_at,
        person_orders.last_order_date,
        person_orders.days_since_last_order,
        person_orders.recency_score,
        person_orders.frequency_score,
        person_orders.monetary_score,

        favourite_categories.favourite_categories,
        favourite_categories.top_category,
        person_activity.preferred_channel,
        coalesce(person_activity.service_contact_count, 0) as service_contact_count,

        person_record_stats.loyalty_tier,
        coalesce(person_record_stats.is_loyalty_member, false) as is_loyalty_member,

        coalesce(consent_flags.has_email_consent, false) as has_email_consent,
        coalesce(consent_flags.has_sms_consent, false) as has_sms_consent,
        coalesce(consent_flags.has_ads_consent, false) as has_ads_consent,
        coalesce(consent_flags.has_phone_consent, false) as has_phone_consent,
        coalesce(consent_flags.has_personalisation_consent, false) as has_personalisation_consent,

        coalesce(person_activity.page_views_30d, 0) as page_views_30d,
        coalesce(person_activity.add_to_cart_30d, 0) as add_to_cart_30d,
        coalesce(person_activity.email_clicks_30d, 0) as email_clicks_30d

    from person_record_stats
    left join golden_records
        on person_record_stats.person_id = golden_records.person_id
    left join person_orders
        on person_record_stats.person_id = person_orders.person_id
    left join favourite_categories
        on person_record_stats.person_id = favourite_categories.person_id
    left join person_activity
        on person_record_stats.person_id = person_activity.person_id
    left join consent_flags
        on person_record_stats.person_id = consent_flags.person_id

),

staged as (

    select
        *,
        case
            when order_count > 0 and days_since_last_order > {{ profiles_var('profile_lookback_days') }}
                then 'lapsed'
            when order_count >= 2
                then 'repeat_loyal'
            when order_count = 1
                then 'first_purchase'
            when add_to_cart_30d > 0 or email_clicks_30d > 0
                then 'consideration'
            else 'orientation'
        end as purchase_stage
    from joined

),

households as (

    select
        staged.*,
        case
            when postcode is not null and house_number is not null
                then 'H' || substr(
                    {{ dbt.hash("coalesce(country, '') || ':' || postcode || ':' || house_number") }},
                    1,
                    12
                )
        end as household_id
    from staged

),

households_sized as (

    select
        households.*,
        case
            when household_id is not null
                then count(*) over (partition by household_id)
        end as household_size
    from households

),

final as (

    select
        ---------- ids
        cast(person_id as {{ dbt.type_string() }}) as person_id,

        ---------- golden record
        first_name,
        last_name,
        name_source,
        email,
        email_source,
        phone,
        phone_source,
        street,
        house_number,
        postcode,
        city,
        country,
        address_source,
        date_of_birth,
        date_of_birth_source,

        ---------- one hash of the contact fields above: activation compares it with what it
        ---------- delivered instead of hashing every field of every member on each delivery
        {{ row_hash(contact_hash_columns()) }} as contact_hash,

        ---------- household (shared address; never a reason to merge people)
        cast(household_id as {{ dbt.type_string() }}) as household_id,
        cast(household_size as integer) as household_size,

        ---------- identity
        first_seen_at,
        last_seen_at,
        cast(source_record_count as integer) as source_record_count,
        cast(linked_cookie_count as integer) as linked_cookie_count,
        linked_record_keys,
        sources,

        ---------- orders
        cast(order_count as integer) as order_count,
        cast(total_revenue as decimal(18, 2)) as total_revenue,
        cast(average_order_value as decimal(18, 2)) as average_order_value,
        first_order_at,
        last_order_date,
        cast(days_since_last_order as integer) as days_since_last_order,
        cast(recency_score as integer) as recency_score,
        cast(frequency_score as integer) as frequency_score,
        cast(monetary_score as integer) as monetary_score,
        purchase_stage,

        ---------- interests and behaviour
        favourite_categories,
        top_category,
        preferred_channel,
        cast(page_views_30d as integer) as page_views_30d,
        cast(add_to_cart_30d as integer) as add_to_cart_30d,
        cast(email_clicks_30d as integer) as email_clicks_30d,
        cast(service_contact_count as integer) as service_contact_count,

        ---------- loyalty and consent
        loyalty_tier,
        is_loyalty_member,
        has_email_consent,
        has_sms_consent,
        has_ads_consent,
        has_phone_consent,
        has_personalisation_consent,

        ---------- metadata
        {{ as_of_date() }} as traits_as_of_date

    from households_sized

)

select * from final
