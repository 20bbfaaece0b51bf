with

source as (

    select * from {{ source('customer_service', 'preferences') }}

),

renamed as (

    select
        ---------- ids
        trim(record_id) as preference_id,
        {{ junk_to_null('person_record_id') }} as contact_id,
        ---------- strings
        {{ standardise_consent_channel('channel') }} as channel,
        ---------- booleans
        is_granted,
        ---------- timestamps
        occurred_at

    from source

)

select * from renamed
