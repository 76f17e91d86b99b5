"""Demo data for development instances: `manage.py load_demo` (run by `make run`).

`data` holds the facts of the two seed articles and the invented values (marked [demo]),
`photos` generates the debris photos, `build` records everything through the services.
"""
