{#- A consent channel/purpose as the ledger names it: email, sms, phone, ads or personalisation
    (lower case; 'e-mail', 'call', 'advertising', 'personalization' and the like are mapped;
    an ambiguous purpose such as 'marketing' is not guessed);
    anything else is kept lower-cased so the ledger's accepted_values test shows it. -#}
{% macro standardise_consent_channel(string) -%}
    case {{ cdp.regexp_replace_all("lower(trim(" ~ string ~ "))", "'[^a-z]+'", "''") }}
        when 'email' then 'email'
        when 'mail' then 'email'
        when 'newsletter' then 'email'
        when 'sms' then 'sms'
        when 'text' then 'sms'
        when 'phone' then 'phone'
        when 'call' then 'phone'
        when 'telephone' then 'phone'
        when 'bellen' then 'phone'
        when 'ads' then 'ads'
        when 'advertising' then 'ads'
        when 'personalisation' then 'personalisation'
        when 'personalization' then 'personalisation'
        else lower(trim({{ string }}))
    end
{%- endmacro %}
