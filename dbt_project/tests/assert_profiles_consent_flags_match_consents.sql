-- A profile's has_<channel>_consent is true exactly when customer_consents holds a granted current
-- state for that person and channel. Returns mismatching person/channel pairs.

{{ config(meta={'dagster': {'ref': {'name': 'customer_profiles'}}}) }}

with

customer_profiles as (

    select * from {{ ref('customer_profiles') }}

),

customer_consents as (

    select * from {{ ref('customer_consents') }}

),

profile_flags as (

    select person_id, 'email' as channel, has_email_consent as has_consent from customer_profiles
    union all
    select person_id, 'sms' as channel, has_sms_consent as has_consent from customer_profiles
    union all
    select person_id, 'ads' as channel, has_ads_consent as has_consent from customer_profiles

),

final as (

    select
        profile_flags.person_id,
        profile_flags.channel,
        profile_flags.has_consent as profile_has_consent,
        customer_consents.has_consent as ledger_has_consent
    from profile_flags
    left join customer_consents
        on
            profile_flags.person_id = customer_consents.person_id
            and profile_flags.channel = customer_consents.channel
    where profile_flags.has_consent <> coalesce(customer_consents.has_consent, false)

)

select * from final
