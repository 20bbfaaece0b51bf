with

source as (

    select * from {{ source('webshop', 'customers') }}

),

renamed as (

    {{ stage_person_records('source', 'webshop__customers') }}

)

select * from renamed
