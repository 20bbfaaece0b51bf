"""Identity resolution: person records -> persistent person_id (no Dagster imports here).

Public surface: `resolve.resolve_identities`, `settings.IdentitySettings`,
`evaluate.evaluate_person_map`; the Dagster wrapper lives in `assets.py`.
"""
