"""Page tests (AppTest); a package so their module names cannot clash with tests/queries/."""
