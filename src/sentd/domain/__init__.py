"""The types domain actions take (`sentd.services`): frozen dataclasses holding values already
validated at the edge.

One module per resource. The HTTP layer parses a request body with its pydantic model
(`sentd.api.schemas`) and converts it into one of these (`to_input()`); the CLI and the workers
build them directly. Nothing here knows of HTTP, pydantic or the database, and this package imports
nothing else of sentd (an import-linter contract in pyproject.toml keeps it so)."""
