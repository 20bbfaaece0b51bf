"""dbt wiring: the dbt project (staging, identity prep, profiles) as Dagster assets."""
