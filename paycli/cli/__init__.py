"""The command-line layer: Typer commands that parse options, call the domain and render through Output."""
