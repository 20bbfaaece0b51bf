"""Privacy: the suppression list (erased people), load-time suppression, purge and subject access."""
