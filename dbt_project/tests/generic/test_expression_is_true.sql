{#-
    Fails for every row where `expression` is not true (same contract as dbt_utils.expression_is_true,
    which cannot be installed here). On a column, the expression is appended to the column name:
    `expression: "like '+%'"` on column phone tests `phone like '+%'`. Rows where the expression is
    null do not fail; add a not_null test when that matters.
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
{% if column_name is none %}
where not ({{ expression }})
{%- else %}
where not ({{ column_name }} {{ expression }})
{%- endif %}

{% endtest %}
