with

source as (

    select * from {{ source('newsletter', 'subscribers') }}

),

renamed as (

    {{ stage_person_records('source', 'newsletter__subscribers') }}

)

select * from renamed
