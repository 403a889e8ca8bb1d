"""The CLI commands, one module per topic; each registers on `dogxray.cli.app`."""
