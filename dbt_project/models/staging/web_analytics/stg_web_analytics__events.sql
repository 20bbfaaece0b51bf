with

source as (

    select * from {{ source('web_analytics', 'events') }}

),

renamed as (

    select
        ---------- ids
        trim(record_id) as event_id,
        {{ junk_to_null('cookie_id') }} as cookie_id,
        {{ junk_to_null('account_id') }} as account_id,
        ---------- strings
        case {{ regexp_replace_all("lower(trim(event_type))", "'[^a-z]+'", "'_'") }}
            when 'pageview' then 'page_view'
            when 'addtocart' then 'add_to_cart'
            when 'add_to_basket' then 'add_to_cart'
            when 'log_in' then 'login'
            when 'signin' then 'login'
            when 'sign_in' then 'login'
            else {{ regexp_replace_all("lower(trim(event_type))", "'[^a-z]+'", "'_'") }}
        end as event_type,
        ---------- timestamps
        occurred_at,
        ---------- strings
        lower({{ collapse_whitespace(junk_to_null('category')) }}) as category,
        {{ junk_to_null('ip_address') }} as ip_address

    from source

)

select * from renamed
