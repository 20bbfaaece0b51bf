{%- set attributes = ['name', 'email', 'phone', 'address', 'date_of_birth'] -%}

with

ranked_attributes as (

    select * from {{ ref('int_profile_attributes_ranked') }}

),

final as (

    -- exactly one record has rank 1 per attribute, so max() just picks its value
    select
        person_id,

        max(case when name_rank = 1 then first_name end) as first_name,
        max(case when name_rank = 1 then last_name end) as last_name,
        max(case when email_rank = 1 then email end) as email,
        max(case when phone_rank = 1 then phone end) as phone,
        max(case when address_rank = 1 then street end) as street,
        max(case when address_rank = 1 then house_number end) as house_number,
        max(case when address_rank = 1 then postcode end) as postcode,
        max(case when address_rank = 1 then city end) as city,
        max(case when address_rank = 1 then country end) as country,
        max(case when date_of_birth_rank = 1 then date_of_birth end) as date_of_birth,

        {%- for attribute in attributes %}
        max(case when {{ attribute }}_rank = 1 then source end) as {{ attribute }}_source,
        max(case when {{ attribute }}_rank = 1 then record_key end) as {{ attribute }}_record_key{{ ',' if not loop.last }}
        {%- endfor %}

    from ranked_attributes
    group by person_id

)

select * from final
