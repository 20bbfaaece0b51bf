with

source as (

    select * from {{ source('loyalty', 'transactions') }}

),

renamed as (

    {{ stage_orders('source', 'loyalty__transactions', person_source='loyalty__members', channel='store') }}

)

select * from renamed
