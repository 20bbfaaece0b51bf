{#-
    Survivorship: for each attribute the candidate records of a person are ranked by
    1. source priority (var survivorship_source_priority), 2. recency (updated_at, else created_at),
    3. frequency (how many of the person's records carry the same value), 4. record_key (stable).
    Name and address are units: first/last name, and street, house number, postcode, city and
    country, each come from one record. A complete name (first and last) beats a partial one
    whatever its source, so a first-name-only record cannot blank out a known surname.
-#}
{%- set attributes = ['name', 'email', 'phone', 'address', 'date_of_birth'] -%}

with

person_records as (

    select * from {{ ref('int_person_records_linked') }}

),

candidates as (

    select
        person_id,
        record_key,
        source,
        first_name,
        last_name,
        email,
        phone,
        street,
        house_number,
        postcode,
        city,
        country,
        date_of_birth,
        record_updated_at,
        {{ profiles_source_priority('source') }} as source_priority,

        -- value keys: null when the record has no value for the attribute
        case
            when first_name is not null or last_name is not null
                then {{ dbt.concat([
                    "coalesce(first_name_key, lower(first_name), '')",
                    "'|'",
                    "coalesce(last_name_key, lower(last_name), '')",
                ]) }}
        end as name_value_key,
        email as email_value_key,
        phone as phone_value_key,
        case
            when coalesce(street, postcode, city) is not null
                then {{ dbt.concat([
                    "coalesce(lower(street), '')", "'|'",
                    "coalesce(lower(house_number), '')", "'|'",
                    "coalesce(upper(postcode), '')", "'|'",
                    "coalesce(lower(city), '')", "'|'",
                    "coalesce(upper(country), '')",
                ]) }}
        end as address_value_key,
        cast(date_of_birth as {{ dbt.type_string() }}) as date_of_birth_value_key

    from person_records

),

value_frequencies as (

    select
        *,
        {%- for attribute in attributes %}
        case
            when {{ attribute }}_value_key is not null
                then count(*) over (partition by person_id, {{ attribute }}_value_key)
        end as {{ attribute }}_frequency{{ ',' if not loop.last }}
        {%- endfor %}
    from candidates

),

ranked as (

    select
        *,
        {%- for attribute in attributes %}
        case
            when {{ attribute }}_value_key is not null
                then row_number() over (
                    partition by
                        person_id,
                        case when {{ attribute }}_value_key is null then 0 else 1 end
                    order by
                        {%- if attribute == 'name' %}
                        case when first_name is not null and last_name is not null then 0 else 1 end asc,
                        {%- endif %}
                        source_priority asc,
                        record_updated_at desc nulls last,
                        {{ attribute }}_frequency desc,
                        record_key asc
                )
        end as {{ attribute }}_rank{{ ',' if not loop.last }}
        {%- endfor %}
    from value_frequencies

),

final as (

    select
        ---------- ids
        person_id,
        record_key,

        ---------- strings
        source,
        first_name,
        last_name,
        email,
        phone,
        street,
        house_number,
        postcode,
        city,
        country,

        ---------- dates
        date_of_birth,

        ---------- numerics
        source_priority,
        {%- for attribute in attributes %}
        cast({{ attribute }}_frequency as integer) as {{ attribute }}_frequency,
        cast({{ attribute }}_rank as integer) as {{ attribute }}_rank,
        {%- endfor %}

        ---------- timestamps
        record_updated_at

    from ranked

)

select * from final
