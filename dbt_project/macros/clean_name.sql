{#- Lower-case name particles (Dutch tussenvoegsels); only lowered when they are not the first word. -#}
{% macro name_particles() -%}
    {{ return(['van', 'de', 'der', 'den', 'ten', 'ter', 'te', 'het', "'t", 'in', 'op', 'aan', 'von']) }}
{%- endmacro %}


{#-
    Display case: first letter of each word (and hyphenated part) upper, particles (van, de, der, den,
    ten, ter, ...) lower case unless first, the Dutch IJ kept as one letter. 'laan VAN meerdervoort' ->
    'Laan van Meerdervoort', 'ijmuiden' -> 'IJmuiden'. With lower_leading_particles=true a leading
    particle is lowered too when more words follow ('DE VRIES' -> 'de Vries'): the form of a surname
    written after a first name.
-#}
{% macro display_case(string, lower_leading_particles=false) -%}
    {%- set lead = "case when " ~ dbt.position("' '", string) ~ " > 0 then ' ' else '' end || " if lower_leading_particles else "" -%}
    {#- words are matched with a space on both sides; the first word has none before it unless lead adds one -#}
    {%- set ns = namespace(expr=lead ~ cdp.initcap_words(string) ~ " || ' '") -%}
    {%- for particle in cdp.name_particles() -%}
        {%- set quoted = particle | replace("'", "''") -%}
        {%- set ns.expr = "replace(" ~ ns.expr ~ ", ' " ~ (quoted | capitalize) ~ " ', ' " ~ quoted ~ " ')" -%}
    {%- endfor -%}
    trim(replace(replace(' ' || {{ ns.expr }}, ' Ij', ' IJ'), '-Ij', '-IJ'))
{%- endmacro %}


{#-
    A person or place name for display: whitespace collapsed, NFC, placeholders and strings without
    letters (or with digits or '@') -> null, then display_case(): 'jan-willem  VAN DEN heuvel' ->
    'Jan-Willem van den Heuvel'. lower_leading_particles=true for surnames: 'VAN DEN heuvel' ->
    'van den Heuvel' (default false: 'Van den Heuvel').
-#}
{% macro clean_name(string, lower_leading_particles=false) -%}
    {%- set name -%}
        {{ cdp.unicode_nfc(cdp.collapse_whitespace(string)) }}
    {%- endset -%}
    case
        when {{ cdp.junk_to_null(name) }} is null then null
        when lower({{ name }}) = upper({{ name }}) then null
        when {{ cdp.regexp_like(name, "'[0-9@]'") }} then null
        else {{ cdp.display_case(name, lower_leading_particles) }}
    end
{%- endmacro %}


{#-
    A name reduced for matching: lower case, accents stripped (ø -> o, æ -> ae, ß -> ss), hyphens as
    spaces, anything but a-z and spaces removed, spaces collapsed; empty -> null.
    'Jan-Willem van den Heuvel' -> 'jan willem van den heuvel'; 'Søren' -> 'soren'.
-#}
{% macro name_key(string) -%}
    {%- set lowered -%}
        replace(replace(replace(replace(replace(lower({{ cdp.unicode_nfc(string) }}),
            'ø', 'o'), 'æ', 'ae'), 'ß', 'ss'), 'ł', 'l'), '-', ' ')
    {%- endset -%}
    nullif(
        trim({{ cdp.regexp_replace_all(
            cdp.regexp_replace_all(cdp.strip_accents(lowered), "'[^a-z ]'", "''"),
            "' +'",
            "' '"
        ) }}),
        ''
    )
{%- endmacro %}
