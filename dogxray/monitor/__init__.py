"""What CloudWatch holds about the function: logs, metrics, and the HTML report."""
