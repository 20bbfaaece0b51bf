{#-
    Time windows of the profiles layer, relative to as_of_date() (var as_of_date, else today).
    as_of_date() itself is defined once for the whole project (macros/as_of_date.sql).
-#}


{% macro profiles_within_last_days(timestamp_column, days) -%}
    {#-
        True when `timestamp_column` falls in the `days` calendar days ending on (and including)
        as_of_date: as_of_date - (days - 1) <= date <= as_of_date. Same window as the audience
        layer's `within_days` (dagster_project/audiences/compile.py), so page_views_30d equals an
        audience rule `{type: page_view, within_days: 30}`.
    -#}
    (
        cast({{ timestamp_column }} as date) >= cast({{ dbt.dateadd('day', -1 * (days - 1), as_of_date()) }} as date)
        and cast({{ timestamp_column }} as date) <= {{ as_of_date() }}
    )
{%- endmacro %}


{% macro profiles_not_after_as_of(timestamp_column) -%}
    {#- True unless `timestamp_column` lies after as_of_date (rows without a time are kept). -#}
    ({{ timestamp_column }} is null or cast({{ timestamp_column }} as date) <= {{ as_of_date() }})
{%- endmacro %}
