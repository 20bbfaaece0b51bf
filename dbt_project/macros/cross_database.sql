{#-
    Engine-specific SQL lives here, behind adapter.dispatch('<name>', 'cdp'), with a duckdb__ and a
    default__ implementation (Spark and most other engines use the default__ one; add spark__ when
    it differs). Every other macro in this project is written on top of these and of dbt's own
    cross-database macros (dbt.split_part, dbt.right, dbt.position, dbt.current_timestamp, ...).

    Arguments are SQL expressions: pass a regex pattern as a quoted SQL literal, e.g. "'[0-9]+'".
    Patterns never use backslashes (Spark string literals eat them): write [0-9], [.], [ ] instead
    of \d, \., \s.
-#}


{#- Replace EVERY match of `pattern` (DuckDB replaces only the first unless given 'g'). -#}
{% macro regexp_replace_all(string, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'cdp')(string, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(string, pattern, replacement) -%}
    regexp_replace({{ string }}, {{ pattern }}, {{ replacement }})
{%- endmacro %}

{% macro duckdb__regexp_replace_all(string, pattern, replacement) -%}
    regexp_replace({{ string }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}


{#- True when `pattern` matches anywhere in `string` (anchor with ^ and $ for a full match). -#}
{% macro regexp_like(string, pattern) -%}
    {{ return(adapter.dispatch('regexp_like', 'cdp')(string, pattern)) }}
{%- endmacro %}

{% macro default__regexp_like(string, pattern) -%}
    ({{ string }} rlike {{ pattern }})
{%- endmacro %}

{% macro duckdb__regexp_like(string, pattern) -%}
    regexp_matches({{ string }}, {{ pattern }})
{%- endmacro %}


{#- Cast that yields null instead of failing (dbt.safe_cast is a plain cast on DuckDB and Spark). -#}
{% macro try_cast(expression, data_type) -%}
    {{ return(adapter.dispatch('try_cast', 'cdp')(expression, data_type)) }}
{%- endmacro %}

{% macro default__try_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}

{% macro duckdb__try_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}


{#- Remove diacritics: é -> e, å -> a. Letters without a decomposition (ø, æ, ß) are left alone. -#}
{% macro strip_accents(string) -%}
    {{ return(adapter.dispatch('strip_accents', 'cdp')(string)) }}
{%- endmacro %}

{% macro default__strip_accents(string) -%}
    translate(
        {{ string }},
        'ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽž',
        'AAAAAACEEEEIIIINOOOOOUUUUYaaaaaaceeeeiiiinooooouuuuyyAaAaAaCcCcCcCcDdEeEeEeEeEeGgGgGgGgHhIiIiIiIiIJjKkLlLlLlNnNnNnOoOoOoRrRrRrSsSsSsSsTtTtUuUuUuUuUuUuWwYyYZzZzZz'
    )
{%- endmacro %}

{% macro duckdb__strip_accents(string) -%}
    strip_accents({{ string }})
{%- endmacro %}


{#- Unicode NFC normalisation (composed characters), so 'e' + combining accent equals 'é'. -#}
{% macro unicode_nfc(string) -%}
    {{ return(adapter.dispatch('unicode_nfc', 'cdp')(string)) }}
{%- endmacro %}

{% macro default__unicode_nfc(string) -%}
    {#- Spark has no built-in NFC normaliser; sources are expected to send composed UTF-8. -#}
    {{ string }}
{%- endmacro %}

{% macro duckdb__unicode_nfc(string) -%}
    nfc_normalize({{ string }})
{%- endmacro %}


{#- Display case: first letter of every word (and of every hyphenated part) upper, rest lower. -#}
{% macro initcap_words(string) -%}
    {{ return(adapter.dispatch('initcap_words', 'cdp')(string)) }}
{%- endmacro %}

{% macro default__initcap_words(string) -%}
    initcap({{ string }})
{%- endmacro %}

{% macro duckdb__initcap_words(string) -%}
    {#- DuckDB has no initcap: split on spaces, then on hyphens, and upper-case each first letter. -#}
    array_to_string(
        list_transform(
            string_split(lower({{ string }}), ' '),
            lambda word: array_to_string(
                list_transform(
                    string_split(word, '-'),
                    lambda part: upper(left(part, 1)) || substr(part, 2)
                ),
                '-'
            )
        ),
        ' '
    )
{%- endmacro %}


{#- A 64-bit hash of several columns, for change detection (equal values give equal hashes;
    nulls and empty strings are told apart, and so are values moved between columns). -#}
{% macro row_hash(columns) -%}
    {{ return(adapter.dispatch('row_hash', 'cdp')(columns)) }}
{%- endmacro %}

{% macro default__row_hash(columns) -%}
    {#- Spark's xxhash64 skips nulls, so each value is tagged first. -#}
    xxhash64(
        {%- for column in columns %}
        coalesce(concat('v', cast({{ column }} as {{ dbt.type_string() }})), 'n'){{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{% macro duckdb__row_hash(columns) -%}
    {#- hash() is a UBIGINT; drop one bit so it fits the contract's BIGINT -#}
    cast(hash({{ columns | join(', ') }}) >> 1 as bigint)
{%- endmacro %}
