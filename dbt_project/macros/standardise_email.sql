{#-
    An e-mail address trimmed and lower-cased, or null when it does not look like local@domain.tld or
    is a placeholder: test@test.com, x@x.com, geen@geen.nl, noreply@ / no-reply@ senders,
    example.com/.org/.net domains, n/a, unknown, -, none. ' Jan.Jansen@Gmail.COM ' -> 'jan.jansen@gmail.com'.
-#}
{% macro standardise_email(email) -%}
    {%- set e -%}
        replace(lower(trim({{ email }})), 'mailto:', '')
    {%- endset -%}
    {%- set domain -%}
        {{ dbt.split_part(e, "'@'", 2) }}
    {%- endset -%}
    case
        when {{ cdp.junk_to_null(e) }} is null then null
        when not {{ cdp.regexp_like(e, "'^[a-z0-9._%+-]+@[a-z0-9-]+([.][a-z0-9-]+)*[.][a-z]{2,}$'") }} then null
        when {{ e }} in ('x@x.com', 'a@a.com', 'a@b.com', 'geen@geen.nl', 'nvt@nvt.nl', 'test@test.nl') then null
        when {{ dbt.split_part(e, "'@'", 1) }} in (
            'test', 'noreply', 'no-reply', 'no_reply', 'donotreply', 'do-not-reply', 'nobody', 'none', 'unknown',
            'geen', 'nvt'
        ) then null
        when {{ domain }} in ('test.com', 'test.nl', 'example.com', 'example.org', 'example.net', 'example.nl')
            then null
        when {{ domain }} like '%.example.com' or {{ domain }} like '%.example.org' then null
        else {{ e }}
    end
{%- endmacro %}
