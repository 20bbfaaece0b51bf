with

person_records as (

    select * from {{ ref('int_person_records_linked') }}

),

customer_events as (

    select * from {{ ref('customer_events') }}

),

email_consents as (

    -- webshop marketing flag and newsletter opt-in, as of their last change
    select
        person_id,
        record_key,
        source,
        'email' as channel,
        email_consent as is_granted,
        coalesce(consent_updated_at, updated_at, created_at) as occurred_at
    from person_records
    where
        source in ('webshop__customers', 'newsletter__subscribers')
        and email_consent is not null

),

service_sms_consents as (

    -- the customer service agent records the SMS permission at the contact moment
    select
        person_id,
        record_key,
        source,
        'sms' as channel,
        sms_consent as is_granted,
        created_at as occurred_at
    from person_records
    where
        source = 'customer_service__contacts'
        and sms_consent is not null

),

loyalty_sms_consents as (

    select
        person_id,
        record_key,
        source,
        'sms' as channel,
        sms_consent as is_granted,
        coalesce(consent_updated_at, created_at) as occurred_at
    from person_records
    where
        source = 'loyalty__members'
        and sms_consent is not null

),

record_consents as (

    select * from email_consents
    union all
    select * from service_sms_consents
    union all
    select * from loyalty_sms_consents

),

record_consent_events as (

    select
        {{ dbt.concat(["record_key", "':'", "channel"]) }} as consent_event_id,
        person_id,
        channel,
        is_granted,
        occurred_at,
        source,
        record_key
    from record_consents

),

ads_consent_events as (

    -- cookie banner choices, attributed to the person through the logged-in cookie
    select
        {{ dbt.concat(["event_id", "':ads'"]) }} as consent_event_id,
        person_id,
        'ads' as channel,
        event_type = 'ads_consent_granted' as is_granted,
        occurred_at,
        source,
        record_key
    from customer_events
    where event_type in ('ads_consent_granted', 'ads_consent_withdrawn')

),

final as (

    select * from record_consent_events
    union all
    select * from ads_consent_events

)

select * from final
