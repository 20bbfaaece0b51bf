with

source as (

    select * from {{ source('webshop', 'orders') }}

),

renamed as (

    {{ stage_orders('source', 'webshop__orders', person_source='webshop__customers', channel='webshop') }}

)

select * from renamed
