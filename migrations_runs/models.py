"""MigrationRun, its steps, log lines and mappings arrive with the migrations issue."""
