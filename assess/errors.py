"""The base of every error a user can fix: its message says what is wrong and where (the file, the
key or row and column, what was expected). The CLI prints it as one line and exits 1; the web app
shows it as a page; anything else is a bug."""


class AssessError(Exception):
    """A mistake in the user's input (a file, a setting, an answer), worded for them."""
