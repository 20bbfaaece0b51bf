with

source as (

    select * from {{ source('loyalty', 'members') }}

),

renamed as (

    {{ stage_person_records('source', 'loyalty__members') }}

)

select * from renamed
