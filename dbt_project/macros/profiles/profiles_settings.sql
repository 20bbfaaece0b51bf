{% macro profiles_var(name) -%}
    {#-
        Tunables of the profiles layer. Each can be overridden with a project var of the same
        name (dbt_project.yml `vars:` or `--vars`); the defaults live here, in one place.
    -#}
    {%- set defaults = {
        'survivorship_source_priority': [
            'webshop__customers',
            'loyalty__members',
            'newsletter__subscribers',
            'customer_service__contacts',
        ],
        'profile_category_weights': {
            'purchase': 3,
            'add_to_cart': 2,
            'email_click': 2,
            'page_view': 1,
        },
        'profile_lookback_days': 365,
        'profile_favourite_category_count': 3,
    } -%}
    {%- if name not in defaults -%}
        {{ exceptions.raise_compiler_error("profiles_var: unknown setting '" ~ name ~ "'") }}
    {%- endif -%}
    {{ return(var(name, defaults[name])) }}
{%- endmacro %}


{% macro profiles_source_priority(source_column) -%}
    {#- 1 for the most trusted source in var('survivorship_source_priority'); unlisted sources last. -#}
    {%- set priority = profiles_var('survivorship_source_priority') -%}
    case {{ source_column }}
        {%- for source_name in priority %}
        when '{{ source_name }}' then {{ loop.index }}
        {%- endfor %}
        else {{ priority | length + 1 }}
    end
{%- endmacro %}


{% macro profiles_category_weight(event_type_column) -%}
    {#- Weight of one event towards a category's interest score; 0 for unweighted event types. -#}
    {%- set weights = profiles_var('profile_category_weights') -%}
    case {{ event_type_column }}
        {%- for event_type, weight in weights.items() %}
        when '{{ event_type }}' then {{ weight }}
        {%- endfor %}
        else 0
    end
{%- endmacro %}


{% macro contact_hash_columns() -%}
    {#- The customer_profiles columns covered by contact_hash. Activation reads the same list
        (dagster_project/exports/state.py CONTACT_HASH_COLUMNS; a test keeps them equal). -#}
    {{ return([
        'first_name', 'last_name', 'email', 'phone', 'street', 'house_number', 'postcode',
        'city', 'country', 'date_of_birth',
    ]) }}
{%- endmacro %}
