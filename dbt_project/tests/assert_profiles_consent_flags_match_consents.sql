-- A profile's has_<channel>_consent is true exactly when consent_current holds a granted current
-- state for that person and channel. Returns mismatching person/channel pairs.

{{ config(meta={'dagster': {'ref': {'name': 'customer_profiles'}}}) }}

with

customer_profiles as (

    select * from {{ ref('customer_profiles') }}

),

consent_current as (

    select * from {{ ref('consent_current') }}

),

profile_flags as (

    select person_id, 'email' as channel, has_email_consent as has_consent from customer_profiles
    union all
    select person_id, 'sms' as channel, has_sms_consent as has_consent from customer_profiles
    union all
    select person_id, 'phone' as channel, has_phone_consent as has_consent from customer_profiles
    union all
    select person_id, 'ads' as channel, has_ads_consent as has_consent from customer_profiles
    union all
    select
        person_id,
        'personalisation' as channel,
        has_personalisation_consent as has_consent
    from customer_profiles

),

final as (

    select
        profile_flags.person_id,
        profile_flags.channel,
        profile_flags.has_consent as profile_has_consent,
        consent_current.is_granted as ledger_has_consent
    from profile_flags
    left join consent_current
        on
            profile_flags.person_id = consent_current.person_id
            and profile_flags.channel = consent_current.channel
    where profile_flags.has_consent <> coalesce(consent_current.is_granted, false)

)

select * from final
