{% macro profiles_listagg_sorted(measure, sort_key, delimiter_text="', '") -%}
    {#-
        Aggregate `measure` into one delimited string, ordered by `sort_key`.
        dbt.listagg honours `order by` on DuckDB, Postgres, Snowflake, Redshift and BigQuery,
        but dbt-spark ignores it, hence the dispatch.
    -#}
    {{ return(adapter.dispatch('profiles_listagg_sorted', 'cdp')(measure, sort_key, delimiter_text)) }}
{%- endmacro %}


{% macro default__profiles_listagg_sorted(measure, sort_key, delimiter_text) -%}
    {{ dbt.listagg(measure, delimiter_text, 'order by ' ~ sort_key) }}
{%- endmacro %}


{% macro spark__profiles_listagg_sorted(measure, sort_key, delimiter_text) -%}
    array_join(
        transform(
            array_sort(collect_list(named_struct('sort_key', {{ sort_key }}, 'value', {{ measure }}))),
            element -> element.value
        ),
        {{ delimiter_text }}
    )
{%- endmacro %}


{% macro databricks__profiles_listagg_sorted(measure, sort_key, delimiter_text) -%}
    {{ spark__profiles_listagg_sorted(measure, sort_key, delimiter_text) }}
{%- endmacro %}
