with

source as (

    select * from {{ source('webshop', 'order_lines') }}

),

renamed as (

    select
        ---------- ids
        trim(record_id) as order_line_id,
        nullif(trim(order_id), '') as order_id,
        nullif(trim(product_id), '') as product_id,
        ---------- strings
        lower({{ collapse_whitespace(junk_to_null('category')) }}) as category,
        ---------- numerics
        quantity,
        unit_price,
        cast(quantity * unit_price as decimal(18, 2)) as line_amount

    from source

)

select * from renamed
