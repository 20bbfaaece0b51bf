"""Sources layer: silo exports declared in config/sources.yml, loaded into the raw schema."""
