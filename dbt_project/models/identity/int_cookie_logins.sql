with

events as (

    select * from {{ ref('stg_web_analytics__events') }}

),

logins as (

    select
        cookie_id,
        account_id,
        occurred_at,
        row_number() over (
            partition by cookie_id
            order by occurred_at desc, event_id desc
        ) as recency_rank

    from events

    where event_type = 'login'
        and cookie_id is not null
        and account_id is not null

),

per_cookie as (

    select
        cookie_id,
        count(*) as login_count,
        count(distinct account_id) as distinct_account_count,
        min(occurred_at) as first_login_at,
        max(occurred_at) as last_login_at

    from logins

    group by cookie_id

),

most_recent_login as (

    select
        cookie_id,
        account_id

    from logins

    where recency_rank = 1

),

cookie_logins as (

    select
        per_cookie.cookie_id,
        most_recent_login.account_id,
        'webshop__customers:' || most_recent_login.account_id as record_key,
        per_cookie.login_count,
        per_cookie.distinct_account_count,
        per_cookie.first_login_at,
        per_cookie.last_login_at

    from per_cookie

    inner join most_recent_login
        on per_cookie.cookie_id = most_recent_login.cookie_id

)

select * from cookie_logins
