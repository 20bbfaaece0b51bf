"""Warehouse-native Customer Data Platform: sources → staging → identity → profiles → audiences → exports."""
