"""Command-line interface: one small module per subcommand over library calls."""
