with

source as (

    select * from {{ source('newsletter', 'email_events') }}

),

renamed as (

    select
        ---------- ids
        trim(record_id) as event_id,
        'newsletter__subscribers' as person_source,
        nullif(trim(person_record_id), '') as person_record_id,
        ---------- strings
        case lower(trim(event_type))
            when 'open' then 'email_open'
            when 'opened' then 'email_open'
            when 'email_open' then 'email_open'
            when 'click' then 'email_click'
            when 'clicked' then 'email_click'
            when 'email_click' then 'email_click'
            else 'email_' || {{ regexp_replace_all("lower(trim(event_type))", "'[^a-z0-9]+'", "'_'") }}
        end as event_type,
        ---------- timestamps
        occurred_at,
        ---------- strings
        lower({{ collapse_whitespace(junk_to_null('category')) }}) as category

    from source

)

select * from renamed
