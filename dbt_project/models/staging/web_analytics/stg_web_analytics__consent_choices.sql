with

source as (

    select * from {{ source('web_analytics', 'consent_choices') }}

),

renamed as (

    select
        ---------- ids
        trim(record_id) as choice_id,
        {{ junk_to_null('cookie_id') }} as cookie_id,
        ---------- strings
        {{ standardise_consent_channel('channel') }} as channel,
        ---------- booleans
        is_granted,
        ---------- timestamps
        occurred_at

    from source

)

select * from renamed
