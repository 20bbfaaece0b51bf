with

source as (

    select * from {{ source('customer_service', 'contacts') }}

),

renamed as (

    {{ stage_person_records('source', 'customer_service__contacts') }}

)

select * from renamed
