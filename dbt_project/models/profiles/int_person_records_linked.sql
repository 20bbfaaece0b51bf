with

person_map as (

    select * from {{ source('identity', 'person_map') }}

),

person_records as (

    select * from {{ ref('int_person_records_unioned') }}

),

mapped_person_records as (

    -- cookies are identifiers, not person records: a person needs at least one real record
    select * from person_map
    where source <> 'web_analytics__cookies'

),

final as (

    select
        ---------- ids
        mapped_person_records.person_id,
        mapped_person_records.record_key,
        mapped_person_records.source,
        mapped_person_records.source_record_id,
        mapped_person_records.match_rule,
        person_records.account_id,

        ---------- strings
        person_records.first_name,
        person_records.last_name,
        person_records.first_name_key,
        person_records.last_name_key,
        person_records.email,
        person_records.phone,
        person_records.street,
        person_records.house_number,
        person_records.postcode,
        person_records.city,
        person_records.country,
        person_records.loyalty_tier,
        person_records.contact_channel,

        ---------- dates
        person_records.date_of_birth,

        ---------- booleans
        person_records.email_consent,
        person_records.sms_consent,

        ---------- timestamps
        person_records.consent_updated_at,
        person_records.created_at,
        person_records.updated_at,
        coalesce(person_records.updated_at, person_records.created_at) as record_updated_at

    from mapped_person_records
    left join person_records
        on mapped_person_records.record_key = person_records.record_key

)

select * from final
