{#- Placeholder values that mean "no value" in a free-text field (compared lower-cased, trimmed). -#}
{% macro junk_values() -%}
    {{ return([
        '', '-', '--', '.', '?', 'x', 'xx', 'xxx', 'n/a', 'n.a.', 'na', 'nvt', 'n.v.t.', 'none',
        'null', 'nil', 'unknown', 'onbekend', 'ukendt', 'test', 'asdf', 'geen', 'ingen',
    ]) }}
{%- endmacro %}


{#- `string` trimmed, or null when it is empty or a placeholder such as n/a, -, unknown, onbekend. -#}
{% macro junk_to_null(string) -%}
    case
        when lower(trim({{ string }})) in (
            {%- for value in cdp.junk_values() %}'{{ value }}'{{ ", " if not loop.last }}{% endfor -%}
        ) then null
        else trim({{ string }})
    end
{%- endmacro %}


{#- Tabs, line breaks and non-breaking spaces become spaces; runs of spaces collapse to one; trimmed. -#}
{% macro collapse_whitespace(string) -%}
    trim({{ cdp.regexp_replace_all(
        string,
        "'[ ' || chr(9) || chr(10) || chr(13) || chr(160) || ']+'",
        "' '"
    ) }})
{%- endmacro %}
