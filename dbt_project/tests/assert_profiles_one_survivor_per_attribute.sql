-- Survivorship picks exactly one record per person and attribute whenever any record of the
-- person has a value for it. Returns person/attribute pairs with zero or several winners.

{{ config(meta={'dagster': {'ref': {'name': 'int_profile_attributes_ranked'}}}) }}

{%- set attributes = ['name', 'email', 'phone', 'address', 'date_of_birth'] %}

with

ranked_attributes as (

    select * from {{ ref('int_profile_attributes_ranked') }}

),

{% for attribute in attributes %}
{{ attribute }}_winners as (

    select
        person_id,
        '{{ attribute }}' as attribute,
        sum(case when {{ attribute }}_rank is not null then 1 else 0 end) as candidate_count,
        sum(case when {{ attribute }}_rank = 1 then 1 else 0 end) as winner_count
    from ranked_attributes
    group by person_id

),
{% endfor %}

winners as (

    {% for attribute in attributes -%}
    select * from {{ attribute }}_winners
    {% if not loop.last %}union all
    {% endif -%}
    {%- endfor %}

),

final as (

    select * from winners
    where
        (candidate_count > 0 and winner_count <> 1)
        or (candidate_count = 0 and winner_count <> 0)

)

select * from final
