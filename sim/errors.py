"""The one exception type for bad user input.

Anything a user can get wrong (a scenario file, a field, a flag, a data row) raises
:class:`InputError` with the file, the field and what is allowed. The CLI prints its one line
and exits with code 2; library users catch it like any ``ValueError``.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: names where (``file``), what (``field``) and what is allowed."""

    exit_code = 2

    def __init__(self, file: str | None, field: str | None, message: str):
        self.file = file
        self.field = field
        self.message = message
        where = ": ".join(str(p) for p in (file, field) if p)
        super().__init__(f"{where}: {message}" if where else message)


def run_script(main, name: str) -> None:
    """Run a script's ``main()`` and exit with its code; bad input (:class:`InputError`) is
    one line on stderr, prefixed by ``name``, and exit code 2, as in the CLI."""
    import sys
    try:
        sys.exit(main())
    except InputError as err:
        print(f"{name}: {err}", file=sys.stderr)
        sys.exit(err.exit_code)
