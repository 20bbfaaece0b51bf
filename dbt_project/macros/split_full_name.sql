{#-
    Split a full name into (first name, last name) parts, before clean-up:
      'Vries, Sophie de'  -> ('Sophie', 'de Vries')   surname first, particles moved back
      'de Vries, S.'      -> ('S.', 'de Vries')
      'S. de Vries'       -> ('S.', 'de Vries')         leading initials are the first name
      'J.P. Balkenende'   -> ('J.P.', 'Balkenende')
      'Jan van der Berg'  -> ('Jan', 'van der Berg')    first word, then the rest
      'Madonna'           -> ('Madonna', null)
    `full_name` should already be whitespace-collapsed. Returns the SQL for the requested `part`
    ('first' or 'last').
-#}
{% macro split_full_name(full_name, part) -%}
    {%- set particles = cdp.name_particles() | map('replace', "'", "''") | join('|') -%}
    {%- set has_comma -%}
        {{ dbt.position("','", full_name) }} > 0
    {%- endset -%}
    {%- set after_comma -%}
        trim(substr({{ full_name }}, {{ dbt.position("','", full_name) }} + 1))
    {%- endset -%}
    {%- set trailing_particles -%}
        regexp_extract(lower({{ after_comma }}), '( ({{ particles }}))+$', 0)
    {%- endset -%}
    {%- set initials -%}
        regexp_extract({{ full_name }}, '^([A-Za-z]([.][ ]?|[ ]))+', 0)
    {%- endset -%}
    {%- set first_word -%}
        {{ dbt.split_part(full_name, "' '", 1) }}
    {%- endset -%}
    {%- if part == 'first' -%}
        nullif(trim(case
            when {{ full_name }} is null then null
            when {{ has_comma }}
                then substr({{ after_comma }}, 1, length({{ after_comma }}) - length({{ trailing_particles }}))
            when {{ initials }} <> '' then {{ initials }}
            else {{ first_word }}
        end), '')
    {%- elif part == 'last' -%}
        nullif(trim(case
            when {{ full_name }} is null then null
            when {{ has_comma }}
                then trim({{ trailing_particles }}) || ' ' || trim({{ dbt.split_part(full_name, "','", 1) }})
            when {{ initials }} <> '' then substr({{ full_name }}, length({{ initials }}) + 1)
            else substr({{ full_name }}, length({{ first_word }}) + 1)
        end), '')
    {%- else -%}
        {{ exceptions.raise_compiler_error("split_full_name: part must be 'first' or 'last', got " ~ part) }}
    {%- endif -%}
{%- endmacro %}


{#- True when a first name is only initials: 'S', 'S.', 'J.P.', 'J. P.'. -#}
{% macro is_initials(first_name) -%}
    {{ cdp.regexp_like(first_name, "'^[A-Za-z]([.][ ]?[A-Za-z])*[.]?$'") }}
{%- endmacro %}


{#- Display form of a first name: initials as upper-case letters without dots ('J.P.' -> 'JP'), else clean_name. -#}
{% macro clean_first_name(first_name) -%}
    case
        when {{ cdp.is_initials(first_name) }}
            then upper(replace(replace({{ first_name }}, '.', ''), ' ', ''))
        else {{ cdp.clean_name(first_name) }}
    end
{%- endmacro %}
