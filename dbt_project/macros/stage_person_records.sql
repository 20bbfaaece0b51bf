{#- The columns every person-bearing staging model emits, in this order (Splink's input shape). -#}
{% macro person_record_columns() -%}
    {{ return([
        'record_key', 'source', 'source_record_id', 'account_id',
        'first_name', 'last_name', 'first_name_key', 'last_name_key',
        'email', 'phone', 'street', 'house_number', 'postcode', 'city', 'country',
        'date_of_birth', 'birth_year', 'loyalty_tier', 'contact_channel',
        'email_consent', 'sms_consent', 'consent_updated_at', 'created_at', 'updated_at',
    ]) }}
{%- endmacro %}


{#-
    The body of a person staging model's `renamed` CTE: reads `source_relation` (a raw person table
    or the CTE that selects it) and returns person_record_columns(), standardised.
    `source_label` is '<system>__<table>', e.g. 'webshop__customers'; record_key is
    '<source_label>:<record id>'. Names come from first_name/last_name, or from full_name split by
    split_full_name() when neither is given. birth_year is the year of date_of_birth, or the raw
    birth_year when a source only knows the year (never turned into a date).
-#}
{% macro stage_person_records(source_relation, source_label) -%}
    select
        ---------- ids
        '{{ source_label }}:' || source_record_id as record_key,
        '{{ source_label }}' as source,
        source_record_id,
        account_id,
        ---------- strings
        first_name,
        last_name,
        {{ cdp.name_key('first_name') }} as first_name_key,
        {{ cdp.name_key('last_name') }} as last_name_key,
        email,
        phone,
        street,
        house_number,
        postcode,
        city,
        country,
        ---------- dates
        date_of_birth,
        ---------- numerics
        birth_year,
        ---------- strings
        loyalty_tier,
        contact_channel,
        ---------- booleans
        email_consent,
        sms_consent,
        ---------- timestamps
        consent_updated_at,
        created_at,
        updated_at
    from (
        select
            source_record_id,
            account_id,
            {{ cdp.clean_first_name('first_name_part') }} as first_name,
            {{ cdp.clean_name('last_name_part', lower_leading_particles=true) }} as last_name,
            email,
            {{ cdp.e164_from_phone_digits('phone_digits', 'country') }} as phone,
            street,
            house_number,
            postcode,
            city,
            country,
            date_of_birth,
            coalesce(
                cast(extract(year from date_of_birth) as {{ dbt.type_int() }}),
                birth_year
            ) as birth_year,
            loyalty_tier,
            contact_channel,
            email_consent,
            sms_consent,
            consent_updated_at,
            created_at,
            updated_at
        from (
            select
                *,
                case
                    when given_first_name is null and given_last_name is null
                        then {{ cdp.split_full_name('full_name', 'first') }}
                    else given_first_name
                end as first_name_part,
                case
                    when given_first_name is null and given_last_name is null
                        then {{ cdp.split_full_name('full_name', 'last') }}
                    else given_last_name
                end as last_name_part
            from (
                select
                    trim(record_id) as source_record_id,
                    {{ cdp.junk_to_null('account_id') }} as account_id,
                    {{ cdp.collapse_whitespace(cdp.junk_to_null('first_name')) }} as given_first_name,
                    {{ cdp.collapse_whitespace(cdp.junk_to_null('last_name')) }} as given_last_name,
                    {{ cdp.collapse_whitespace(cdp.junk_to_null('full_name')) }} as full_name,
                    {{ cdp.standardise_email('email') }} as email,
                    {{ cdp.phone_digits('phone') }} as phone_digits,
                    {{ cdp.display_case(cdp.unicode_nfc(cdp.collapse_whitespace(cdp.junk_to_null('street')))) }} as street,
                    {{ cdp.standardise_house_number('house_number') }} as house_number,
                    {{ cdp.standardise_postcode('postcode') }} as postcode,
                    {{ cdp.clean_name('city') }} as city,
                    {{ cdp.standardise_country('country') }} as country,
                    case
                        when date_of_birth > cast('1900-01-01' as date) and date_of_birth <= {{ cdp.as_of_date() }}
                            then date_of_birth
                    end as date_of_birth,
                    case
                        when birth_year > 1900
                            and birth_year <= extract(year from {{ cdp.as_of_date() }})
                            then cast(birth_year as {{ dbt.type_int() }})
                    end as birth_year,
                    lower({{ cdp.collapse_whitespace(cdp.junk_to_null('loyalty_tier')) }}) as loyalty_tier,
                    lower({{ cdp.collapse_whitespace(cdp.junk_to_null('contact_channel')) }}) as contact_channel,
                    email_consent,
                    sms_consent,
                    consent_updated_at,
                    created_at,
                    updated_at
                from {{ source_relation }}
            ) as cleaned
        ) as split
    ) as standardised
{%- endmacro %}


{#-
    The body of an order staging model's `renamed` CTE (web orders and till receipts share a shape):
    order_id, source, person_source, person_record_id, ordered_at, total_amount, store_id, category,
    channel.
-#}
{% macro stage_orders(source_relation, source_label, person_source, channel) -%}
    select
        ---------- ids
        trim(record_id) as order_id,
        '{{ source_label }}' as source,
        '{{ person_source }}' as person_source,
        nullif(trim(person_record_id), '') as person_record_id,
        ---------- timestamps
        ordered_at,
        ---------- numerics
        total_amount,
        ---------- strings
        {{ cdp.junk_to_null('store_id') }} as store_id,
        lower({{ cdp.collapse_whitespace(cdp.junk_to_null('category')) }}) as category,
        '{{ channel }}' as channel
    from {{ source_relation }}
{%- endmacro %}
