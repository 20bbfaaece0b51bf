{#- The consent ledger: every consent event of every source, attributed to the person its record
    or cookie belongs to in identity.person_map now (so consent follows records through merges and
    splits). Events of records or cookies no person owns are left out. -#}
with

person_map as (

    select * from {{ source('identity', 'person_map') }}

),

person_records as (

    select * from {{ ref('int_person_records_linked') }}

),

service_preferences as (

    select * from {{ ref('stg_customer_service__preferences') }}

),

web_events as (

    select * from {{ ref('stg_web_analytics__events') }}

),

banner_choices as (

    select * from {{ ref('stg_web_analytics__consent_choices') }}

),

cookie_persons as (

    select
        person_id,
        record_key,
        source_record_id as cookie_id
    from person_map
    where source = 'web_analytics__cookies'

),

email_flags as (

    -- webshop marketing checkbox and newsletter opt-in/opt-out, as of their last change
    select
        person_id,
        record_key,
        source,
        source_record_id,
        'email' as channel,
        email_consent as is_granted,
        coalesce(consent_updated_at, updated_at, created_at) as occurred_at
    from person_records
    where
        source in ('webshop__customers', 'newsletter__subscribers')
        and email_consent is not null

),

sms_flags as (

    -- the service agent records the SMS permission at the contact moment; loyalty at sign-up
    -- or its last change
    select
        person_id,
        record_key,
        source,
        source_record_id,
        'sms' as channel,
        sms_consent as is_granted,
        case
            when source = 'loyalty__members' then coalesce(consent_updated_at, created_at)
            else created_at
        end as occurred_at
    from person_records
    where
        source in ('customer_service__contacts', 'loyalty__members')
        and sms_consent is not null

),

record_flags as (

    select * from email_flags
    union all
    select * from sms_flags

),

record_flag_events as (

    select
        {{ dbt.concat(["record_key", "':'", "channel"]) }} as consent_event_id,
        person_id,
        record_key,
        channel,
        is_granted,
        occurred_at,
        source,
        source_record_id
    from record_flags

),

phone_preference_events as (

    -- "do not call" and call permissions, recorded at a service contact
    select
        {{ dbt.concat(["'customer_service__preferences:'", "service_preferences.preference_id"]) }}
            as consent_event_id,
        person_map.person_id,
        person_map.record_key,
        service_preferences.channel,
        service_preferences.is_granted,
        service_preferences.occurred_at,
        'customer_service__preferences' as source,
        service_preferences.preference_id as source_record_id
    from service_preferences
    inner join person_map
        on person_map.record_key
        = {{ dbt.concat(["'customer_service__contacts:'", "service_preferences.contact_id"]) }}

),

ads_banner_events as (

    -- ads choices logged by web analytics, attributed through the logged-in cookie
    select
        {{ dbt.concat(["'web_analytics__events:'", "web_events.event_id"]) }} as consent_event_id,
        cookie_persons.person_id,
        cookie_persons.record_key,
        'ads' as channel,
        web_events.event_type = 'ads_consent_granted' as is_granted,
        web_events.occurred_at,
        'web_analytics__events' as source,
        web_events.event_id as source_record_id
    from web_events
    inner join cookie_persons
        on web_events.cookie_id = cookie_persons.cookie_id
    where web_events.event_type in ('ads_consent_granted', 'ads_consent_withdrawn')

),

consent_manager_events as (

    -- personalisation (and any other purpose) choices from the consent manager's log
    select
        {{ dbt.concat(["'web_analytics__consent_choices:'", "banner_choices.choice_id"]) }}
            as consent_event_id,
        cookie_persons.person_id,
        cookie_persons.record_key,
        banner_choices.channel,
        banner_choices.is_granted,
        banner_choices.occurred_at,
        'web_analytics__consent_choices' as source,
        banner_choices.choice_id as source_record_id
    from banner_choices
    inner join cookie_persons
        on banner_choices.cookie_id = cookie_persons.cookie_id
    where banner_choices.is_granted is not null

),

final as (

    select * from record_flag_events
    union all
    select * from phone_preference_events
    union all
    select * from ads_banner_events
    union all
    select * from consent_manager_events

)

select * from final
