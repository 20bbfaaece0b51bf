{#-
    Person records of a `cdp evaluate` run: every raw table named in var('evaluation_sources')
    (e.g. ['evaluation__febrl_a', 'evaluation__febrl_b']), standardised by the same
    stage_person_records() macro as the production sources. Enabled only when that var is set,
    so the daily run never builds it. The tables are named by the evaluation config at run time,
    which is why they are addressed as relations here rather than declared as dbt sources.
-#}
{{ config(enabled=(var('evaluation_sources', []) | length > 0)) }}

{%- set labels = var('evaluation_sources', []) -%}

{%- for label in labels %}
{%- if not modules.re.match('^[a-z][a-z0-9_]*$', label) -%}
    {{ exceptions.raise_compiler_error("evaluation_sources: '" ~ label ~ "' is not a snake_case table name") }}
{%- endif %}
{%- endfor %}

with

{% for label in labels -%}
source_{{ loop.index }} as (

    select * from {{ api.Relation.create(schema='raw', identifier=label) }}

),

{% endfor -%}

renamed as (

    {% for label in labels -%}
    {{ stage_person_records('source_' ~ loop.index, label) }}
    {% if not loop.last %}
    union all

    {% endif -%}
    {%- endfor %}

)

select * from renamed
