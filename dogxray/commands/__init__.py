"""The CLI commands, one module per topic; each has its own `app` that `dogxray.app`
merges into the `dogxray` command."""
