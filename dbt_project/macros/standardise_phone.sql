{#-
    A phone number in E.164 ('+31612345678'), or null when it is junk.

    Spaces, dashes, dots, parentheses and a Dutch '(0)' trunk are dropped; a leading 00 becomes +.
    National numbers take the record's `country` (an ISO-2 SQL expression) or, when that is null,
    var('default_phone_country'):
      NL: 0612345678 / 0201234567 (10 digits with trunk 0) -> +31..., 612345678 -> +31..., 31... -> +31...
      DK: 20123456 (8 digits) -> +4520123456, 45... (10 digits) -> +45...
    When the record has no country and the default country's rule does not fit, the number's shape
    decides: 10 digits starting with 0 -> NL, 8 digits -> DK.
    Junk -> null: 0000000000, 1234567890, 0123456789, a run of 7 equal final digits, fewer than 8 or
    more than 15 digits, a +31 number that is not 9 national digits, a +45 number that is not 8.

    Composed of phone_digits() and e164_from_phone_digits(); a model that standardises many rows can
    compute phone_digits() in an inner select and pass the column on, which keeps the SQL small.
-#}
{% macro standardise_phone(phone, country=none) -%}
    {{ cdp.e164_from_phone_digits(cdp.phone_digits(phone), country) }}
{%- endmacro %}


{#-
    Step 1 of standardise_phone: only the digits, with a leading '+' when the number was written
    internationally ('+31 (0)6-1234 5678' -> '+31612345678', '0045 20 12 34 56' -> '+4520123456',
    '06 1234 5678' -> '0612345678'); null when no digit is left.
-#}
{% macro phone_digits(phone) -%}
    {%- set kept -%}
        {{ cdp.regexp_replace_all("replace(trim(" ~ phone ~ "), '(0)', '')", "'[^0-9+]'", "''") }}
    {%- endset -%}
    case
        when replace({{ kept }}, '+', '') = '' then null
        when {{ kept }} like '+%' then '+' || replace({{ kept }}, '+', '')
        when {{ kept }} like '00%' then '+' || substr(replace({{ kept }}, '+', ''), 3)
        else replace({{ kept }}, '+', '')
    end
{%- endmacro %}


{#- Step 2 of standardise_phone: phone_digits() output + record country -> E.164 or null. -#}
{% macro e164_from_phone_digits(phone_digits, country=none) -%}
    {%- set default_country = "'" ~ var('default_phone_country', 'NL') ~ "'" -%}
    {%- set record_country = country if country is not none else "cast(null as " ~ dbt.type_string() ~ ")" -%}
    {%- set cc -%}
        coalesce({{ record_country }}, {{ default_country }})
    {%- endset -%}
    {%- set d = "(" ~ phone_digits ~ ")" -%}
    {#- country code + national number: as written for +.., from the country rules otherwise -#}
    {%- set candidate -%}
        case
            when {{ d }} like '+31%' or {{ d }} like '+45%'
                {#- '+31 0612...' still carries the national trunk 0 -#}
                then substr({{ d }}, 2, 2) || case when substr({{ d }}, 4, 1) = '0' then substr({{ d }}, 5) else substr({{ d }}, 4) end
            when {{ d }} like '+%' then substr({{ d }}, 2)
            when {{ cc }} = 'NL' and length({{ d }}) = 10 and {{ d }} like '0%'
                then '31' || substr({{ d }}, 2)
            when {{ cc }} = 'NL' and length({{ d }}) = 9 and {{ d }} like '6%'
                then '31' || {{ d }}
            when {{ cc }} = 'NL' and length({{ d }}) = 11 and {{ d }} like '31%'
                then {{ d }}
            when {{ cc }} = 'DK' and length({{ d }}) = 8 and {{ d }} not like '0%'
                then '45' || {{ d }}
            when {{ cc }} = 'DK' and length({{ d }}) = 10 and {{ d }} like '45%'
                then {{ d }}
            when {{ record_country }} is null and length({{ d }}) = 10 and {{ d }} like '0%'
                then '31' || substr({{ d }}, 2)
            when {{ record_country }} is null and length({{ d }}) = 8 and {{ d }} not like '0%'
                then '45' || {{ d }}
        end
    {%- endset -%}
    case
        when replace({{ d }}, '+', '') in (
            '0000000000', '1234567890', '0123456789', '9876543210', '12345678', '87654321', '123456789'
        ) then null
        when not {{ cdp.regexp_like(candidate, "'^[1-9][0-9]{7,14}$'") }} then null
        when {{ candidate }} like '31%' and length({{ candidate }}) <> 11 then null
        when {{ candidate }} like '45%' and length({{ candidate }}) <> 10 then null
        when replace({{ dbt.right(candidate, 7) }}, {{ dbt.right(candidate, 1) }}, '') = '' then null
        else '+' || {{ candidate }}
    end
{%- endmacro %}
