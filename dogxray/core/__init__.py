"""What every capability stands on: AWS clients, settings, the one error type, files,
time windows and statistics."""
