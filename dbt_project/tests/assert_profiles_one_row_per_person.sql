-- Every person that person_map resolves a person record to (cookies excluded) has exactly one
-- profile, and no profile exists for anyone else. Returns the offending person_ids.

{{ config(meta={'dagster': {'ref': {'name': 'customer_profiles'}}}) }}

with

person_map as (

    select * from {{ source('identity', 'person_map') }}

),

customer_profiles as (

    select * from {{ ref('customer_profiles') }}

),

expected_persons as (

    select distinct person_id
    from person_map
    where source <> 'web_analytics__cookies'

),

profile_counts as (

    select
        person_id,
        count(*) as profile_count
    from customer_profiles
    group by person_id

),

final as (

    select
        coalesce(expected_persons.person_id, profile_counts.person_id) as person_id,
        coalesce(profile_counts.profile_count, 0) as profile_count,
        expected_persons.person_id is not null as is_in_person_map
    from expected_persons
    full outer join profile_counts
        on expected_persons.person_id = profile_counts.person_id
    where
        expected_persons.person_id is null
        or profile_counts.person_id is null
        or profile_counts.profile_count <> 1

)

select * from final
