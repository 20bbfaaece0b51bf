with

consent_events as (

    select * from {{ ref('int_consent_events') }}

),

final as (

    select
        ---------- ids
        cast(consent_event_id as {{ dbt.type_string() }}) as consent_event_id,
        cast(person_id as {{ dbt.type_string() }}) as person_id,
        cast(record_key as {{ dbt.type_string() }}) as record_key,
        cast(source_record_id as {{ dbt.type_string() }}) as source_record_id,

        ---------- strings
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(source as {{ dbt.type_string() }}) as source,

        ---------- booleans
        is_granted,

        ---------- timestamps
        occurred_at

    from consent_events

)

select * from final
