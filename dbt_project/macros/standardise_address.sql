{#-
    A postcode: Dutch '1234 ab' / 'NL-1234AB' -> '1234AB' (upper, no space); Danish 'DK-2100' / '2100'
    -> '2100'; anything else trimmed and upper-cased; placeholders -> null.
-#}
{% macro standardise_postcode(postcode) -%}
    {%- set compact -%}
        upper({{ cdp.regexp_replace_all(postcode, "'[^0-9A-Za-z]'", "''") }})
    {%- endset -%}
    case
        when {{ cdp.junk_to_null(postcode) }} is null then null
        when {{ cdp.regexp_like(compact, "'^(NL)?[1-9][0-9]{3}[A-Z]{2}$'") }} then {{ dbt.right(compact, 6) }}
        when {{ cdp.regexp_like(compact, "'^(DK)?[0-9]{4}$'") }} then {{ dbt.right(compact, 4) }}
        else upper({{ cdp.collapse_whitespace(postcode) }})
    end
{%- endmacro %}


{#-
    A house number with its addition written the Dutch way: number, then a letter addition glued on
    and any other addition after a dash. '12 a' / '12A' / '12-a' -> '12A'; '12 hs' -> '12HS';
    '12 - 2' / '12/2' -> '12-2'; a value that does not start with a digit is only trimmed and
    upper-cased; placeholders -> null.
-#}
{% macro standardise_house_number(house_number) -%}
    {%- set value -%}
        upper({{ cdp.collapse_whitespace(cdp.junk_to_null(house_number)) }})
    {%- endset -%}
    {%- set number -%}
        regexp_extract({{ value }}, '^[0-9]+', 0)
    {%- endset -%}
    {%- set addition -%}
        trim({{ cdp.regexp_replace_all("substr(" ~ value ~ ", length(" ~ number ~ ") + 1)", "'^[-/ ]+'", "''") }})
    {%- endset -%}
    case
        when {{ value }} is null or {{ value }} = '' then null
        when {{ number }} = '' then {{ value }}
        when {{ addition }} = '' then {{ number }}
        when {{ cdp.regexp_like(addition, "'^[A-Z]{1,4}$'") }} then {{ number }} || {{ addition }}
        else {{ number }} || '-' || {{ addition }}
    end
{%- endmacro %}


{#- Country name or code -> ISO 3166 alpha-2 ('Nederland', 'Holland', 'NLD' -> 'NL'; 'Danmark' -> 'DK'). -#}
{% macro country_aliases() -%}
    {{ return({
        'NL': ['nl', 'nld', 'nederland', 'netherlands', 'the netherlands', 'holland', 'nederlân',
               'pays-bas', 'niederlande', 'holanda', 'paesi bassi', 'nederlandene', 'holland nl'],
        'DK': ['dk', 'dnk', 'danmark', 'denmark', 'dänemark', 'danemark', 'denemarken', 'dinamarca'],
        'BE': ['be', 'bel', 'belgium', 'belgie', 'belgië', 'belgique', 'belgien'],
        'DE': ['de', 'deu', 'germany', 'deutschland', 'duitsland', 'tyskland', 'allemagne'],
        'SE': ['se', 'swe', 'sweden', 'sverige', 'zweden'],
        'NO': ['no', 'nor', 'norway', 'norge', 'noorwegen'],
        'GB': ['gb', 'gbr', 'uk', 'united kingdom', 'great britain', 'england', 'verenigd koninkrijk'],
        'FR': ['fr', 'fra', 'france', 'frankrijk', 'frankrig'],
    }) }}
{%- endmacro %}


{#-
    ISO 3166 alpha-2 country code: known names and codes (country_aliases()) map to their code; any
    other two-letter value is upper-cased; everything else -> null.
-#}
{% macro standardise_country(country) -%}
    {%- set value -%}
        lower({{ cdp.collapse_whitespace(country) }})
    {%- endset -%}
    case
        {%- for code, aliases in cdp.country_aliases().items() %}
        when {{ value }} in ({% for alias in aliases %}'{{ alias }}'{{ ", " if not loop.last }}{% endfor %}) then '{{ code }}'
        {%- endfor %}
        when {{ cdp.regexp_like(value, "'^[a-z]{2}$'") }} then upper({{ value }})
    end
{%- endmacro %}
