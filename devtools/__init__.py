"""Tools for developers and operators, not the product: the `make run` admin login (`ensure_admin`) and the
benchmarks (`bench_akeneo_client`, `bench_migration` with its demo server and Celery worker helpers)."""
