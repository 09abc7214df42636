"""Exit statuses shared by every `callbridge` command (docs/interfaces.md, "CLI")."""

EXIT_OK = 0
EXIT_BAD_INPUT = 2  # bad arguments or unusable input: a one-line error on stderr
