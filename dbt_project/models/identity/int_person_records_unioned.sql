{#- A `cdp evaluate` run (var evaluation_sources set) reads its labelled files instead of the silos. -#}
{%- if var('evaluation_sources', []) | length > 0 -%}
{%- set person_models = ['stg_evaluation__person_records'] -%}
{%- else -%}
{%- set person_models = [
    'stg_webshop__customers',
    'stg_newsletter__subscribers',
    'stg_customer_service__contacts',
    'stg_loyalty__members',
] -%}
{%- endif -%}

with

{% for model in person_models -%}
{{ model }} as (

    select * from {{ ref(model) }}

),

{% endfor -%}

nicknames as (

    select * from {{ ref('first_name_nicknames') }}

),

unioned as (

    {% for model in person_models -%}
    select
        {{ person_record_columns() | join(',\n        ') }}
    from {{ model }}
    {% if not loop.last %}
    union all

    {% endif -%}
    {%- endfor %}

),

with_canonical_first_name as (

    select
        unioned.*,
        case
            when unioned.first_name_key is null then null
            else coalesce(
                full_name_nickname.canonical,
                first_word_nickname.canonical,
                unioned.first_name_key
            )
        end as first_name_canonical

    from unioned

    left join nicknames as full_name_nickname
        on unioned.first_name_key = full_name_nickname.nickname

    -- 'kees jan' -> 'cornelis': the whole key is not a nickname, its first word is
    left join nicknames as first_word_nickname
        on {{ dbt.split_part('unioned.first_name_key', "' '", 1) }} = first_word_nickname.nickname
        and unioned.first_name_key like '% %'

)

select * from with_canonical_first_name
